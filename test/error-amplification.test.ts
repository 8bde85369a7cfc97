import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { MAX_ISSUES, ValidationError } from "../src/model/errors.js";
import { createOAuthClientRegistry } from "../src/registry/registry.js";
import { apiRequest, createHarness, envelopeOf, validCreateBody } from "./helpers/http.js";

// Counts URL parses: each URI check parses once, so this is the per-entry work done.
const RealURL = globalThis.URL;
let urlParses = 0;
beforeAll(() => {
  globalThis.URL = new Proxy(RealURL, {
    construct(target, args: ConstructorParameters<typeof URL>) {
      urlParses++;
      return new target(...args);
    },
  });
});
afterAll(() => {
  globalThis.URL = RealURL;
});
beforeEach(() => {
  urlParses = 0;
});

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe("error amplification: bounded issues and bounded work for any input", () => {
  const registry = () => {
    let catalogLookups = 0;
    const catalog = {
      has: () => {
        catalogLookups++;
        return true;
      },
      list: () => [],
    };
    return { registry: createOAuthClientRegistry(createMemoryStore(), { scopeCatalog: catalog }), lookups: () => catalogLookups };
  };

  it("16,000 URIs in each list get one issue per list, and none of them is parsed", async () => {
    const { registry: r, lookups } = registry();
    const flood = Array.from({ length: 16_000 }, (_, i) => `http://example.com/cb/${i}`);
    const error = await refusal(
      r.create("acct", {
        ...validCreateBody(),
        redirect_uris: flood,
        post_logout_redirect_uris: flood,
        allowed_cors_origins: flood,
        scopes: flood.map((_, i) => `zone.s${i}`),
      } as never),
    );
    expect(error.issues).toEqual([
      { path: "/redirect_uris", message: "must contain at most 100 entries" },
      { path: "/scopes", message: "must contain at most 100 scopes" },
      { path: "/allowed_cors_origins", message: "must contain at most 100 origins" },
      { path: "/post_logout_redirect_uris", message: "must contain at most 100 entries" },
    ]);
    expect(urlParses).toBe(0);
    expect(lookups()).toBe(0);
  });

  it("lists within their limits are checked entry by entry, and the issues are capped at MAX_ISSUES", async () => {
    const { registry: r } = registry();
    const bad = Array.from({ length: 100 }, (_, i) => `http://example.com/cb/${i}`);
    const unknown = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`field_${i}`, true]));
    const error = await refusal(
      r.create("acct", {
        ...validCreateBody(),
        ...unknown,
        redirect_uris: bad,
        post_logout_redirect_uris: bad,
        allowed_cors_origins: bad.map((uri) => `${uri}/path`),
      } as never),
    );
    expect(error.issues).toHaveLength(MAX_ISSUES);
    expect(error.issues[0]).toEqual({ path: "/field_0", message: "unknown field field_0" });
    expect(error.issues[MAX_ISSUES - 1]).toEqual({ path: "", message: "and 1201 more issues (only the first 99 are listed)" });
    expect(error.message).toBe("invalid input: /field_0: unknown field field_0 (and 1299 more)");
    // One parse per entry: work grows with the entry limits, not with the input.
    expect(urlParses).toBeLessThanOrEqual(300);
  });

  it("an ordinary body with several problems still gets every issue", async () => {
    const { registry: r } = registry();
    const error = await refusal(
      r.create("acct", {
        ...validCreateBody(),
        client_name: "Pay\u202epal",
        redirect_uris: ["http://example.com/cb", "https://ok.example.com/cb", "https://app.example.com/#x"],
        logo_uri: "https://cdn.example.com/\ud800",
        extra: 1,
      } as never),
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual(
      ["/client_name", "/extra", "/logo_uri", "/redirect_uris/0", "/redirect_uris/2"],
    );
  });

  it("over HTTP, a 64 KB body with 16,000 bad entries answers a small 400", async () => {
    const { handler } = createHarness();
    const body = JSON.stringify(validCreateBody({ redirect_uris: Array.from({ length: 16_000 }, () => "x") }));
    expect(body.length).toBeGreaterThan(63_000);
    expect(body.length).toBeLessThanOrEqual(65_536);
    const response = await handler(apiRequest("POST", "/accounts/023e105f4ecef8ad9ca31a8372d0c353/oauth_clients", {
      body,
      headers: { "content-type": "application/json" },
    }));
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text.length).toBeLessThan(1_000);
    const envelope = JSON.parse(text) as Awaited<ReturnType<typeof envelopeOf>>;
    expect(envelope.errors).toEqual([
      { code: 1000, message: "must contain at most 100 entries", source: { pointer: "/redirect_uris" } },
    ]);
  });

  it("over HTTP, the errors of a body full of bad entries within the limits are capped at MAX_ISSUES", async () => {
    const { handler } = createHarness();
    const bad = Array.from({ length: 100 }, () => "x");
    const response = await handler(
      apiRequest("POST", "/accounts/023e105f4ecef8ad9ca31a8372d0c353/oauth_clients", {
        json: validCreateBody({
          redirect_uris: bad,
          post_logout_redirect_uris: bad,
          allowed_cors_origins: bad,
          scopes: bad,
          optional_scopes: bad,
        }),
      }),
    );
    expect(response.status).toBe(400);
    const { errors } = await envelopeOf(response);
    expect(errors).toHaveLength(MAX_ISSUES);
    expect(errors[MAX_ISSUES - 1]).toEqual({
      code: 1000,
      message: expect.stringMatching(/^and \d+ more issues \(only the first 99 are listed\)$/),
      source: { pointer: "" },
    });
  });
});
