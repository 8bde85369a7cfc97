/**
 * Robustness of the HTTP layer: arbitrary methods, paths, headers and bodies
 * never produce a 5xx or an unhandled rejection, every answer is a
 * well-formed envelope, and a refused write changes nothing in the store.
 *
 * Default: 200 runs (fast enough for `npm test`). `npm run test:fuzz` runs
 * 20 000; FUZZ_RUNS=<n> sets any count.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import type { ClientStore } from "../src/model/store.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { createFetchHandler } from "../src/http/index.js";
import {
  ACCOUNT,
  ADMIN_TOKEN,
  OTHER_ACCOUNT,
  READER_TOKEN,
  SCOPE_CATALOG,
  tokenAuthorize,
  validCreateBody,
  type Envelope,
} from "./helpers/http.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.npm_lifecycle_event === "test:fuzz" ? 20_000 : 200));

/** A memory store that counts the writes it accepted. */
function countingStore(): { store: ClientStore; writes: () => number } {
  const inner = createMemoryStore();
  let writes = 0;
  const counted = <T extends unknown[]>(write: (...args: T) => Promise<boolean>) =>
    async (...args: T) => {
      const ok = await write(...args);
      if (ok) writes++;
      return ok;
    };
  return {
    store: {
      ...inner,
      insert: counted(inner.insert),
      update: counted(inner.update),
      delete: counted(inner.delete),
    },
    writes: () => writes,
  };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

describe("HTTP handler under arbitrary input", () => {
  it(`never answers 5xx, always answers an envelope, and refused writes change nothing (${RUNS} runs)`, async () => {
    // A fresh, seeded registry per run, so one run deleting a client does
    // not turn every later run into a 404. Ids are deterministic.
    const ids = ["a".repeat(32), "b".repeat(32)];
    async function seededHarness() {
      const counting = countingStore();
      let next = 0;
      const registry = createOAuthClientRegistry(counting.store, {
        scopeCatalog: SCOPE_CATALOG,
        generateClientId: () => ids[next++] ?? crypto.randomUUID().replace(/-/g, ""),
      });
      await registry.create(ACCOUNT, validCreateBody() as never);
      await registry.create(ACCOUNT, validCreateBody({ token_endpoint_auth_method: "none" }) as never);
      const handler = createFetchHandler(registry, { authorize: tokenAuthorize, onError: () => {} });
      return { handler, registry, writes: counting.writes };
    }

    const segment = fc.oneof(
      fc.constantFrom("accounts", "oauth_clients", "rotate_secret", "oauth_clients_purge", "oauth", "scopes", "openapi.json", "", "..", ".", "%2F", "%ZZ", "%E0%A4%A", "client", "v4"),
      fc.constantFrom(ACCOUNT, OTHER_ACCOUNT, ...ids),
      fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
      fc.string({ minLength: 300, maxLength: 600 }).map((s) => encodeURIComponent(s)),
    );
    const routedPath = fc
      .tuple(
        fc.oneof({ arbitrary: fc.constant(ACCOUNT), weight: 6 }, fc.constantFrom(OTHER_ACCOUNT, "x", "%00")),
        fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 6 }, fc.constantFrom("0".repeat(32), "a%2Fb")),
        fc.oneof({ arbitrary: fc.constant(""), weight: 4 }, { arbitrary: fc.constant("/rotate_secret"), weight: 2 }, fc.constantFrom("/", "/rotate_secret/")),
        fc.boolean(),
      )
      .map(([account, id, tail, collection]) =>
        collection
          ? `/client/v4/accounts/${account}/${tail === "/rotate_secret" ? "oauth_clients_purge" : "oauth_clients"}${tail === "/" ? "/" : ""}`
          : `/client/v4/accounts/${account}/oauth_clients/${id}${tail}`,
      );
    // Weighted towards real routes and valid credentials, so most runs get
    // past routing and authorization into body handling and the registry.
    const path = fc.oneof(
      { arbitrary: routedPath, weight: 6 },
      { arbitrary: fc.array(segment, { maxLength: 7 }).map((parts) => `/client/v4/${parts.join("/")}`), weight: 2 },
      { arbitrary: fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join("/")}`), weight: 1 },
    );
    const query = fc.oneof(
      fc.constant(""),
      fc.constantFrom("?per_page=1", "?per_page=0", "?per_page=1e3", "?per_page=-5", "?cursor=", "?cursor=abc", "?cursor=W10", "?per_page=2&cursor=WyIiLCIiXQ", "?idle_for_seconds=0", "?idle_for_seconds=60&source=dcr"),
      fc.string({ maxLength: 30 }).map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
    );
    const method = fc.oneof(
      { arbitrary: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "POST", "PATCH"), weight: 8 },
      { arbitrary: fc.constantFrom("PUT", "HEAD", "OPTIONS", "get", "delete"), weight: 1 },
      { arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/).filter((m) => !["CONNECT", "TRACE", "TRACK"].includes(m)), weight: 1 },
    );
    const authorization = fc.oneof(
      { arbitrary: fc.constant(`Bearer ${ADMIN_TOKEN}`), weight: 8 },
      { arbitrary: fc.constantFrom(undefined, `Bearer ${READER_TOKEN}`, "Bearer", "Basic YTpi", `bearer ${ADMIN_TOKEN}`), weight: 1 },
      { arbitrary: fc.string({ maxLength: 60 }).filter((s) => /^[\x20-\x7e]*$/.test(s)).map((s) => `Bearer ${s}`), weight: 1 },
    );
    const contentType = fc.oneof(
      { arbitrary: fc.constant("application/json"), weight: 6 },
      {
        arbitrary: fc.option(
          fc.oneof(
            fc.constantFrom("application/json", "application/json; charset=utf-8", "application/json;charset=UTF-16", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/vnd.api+json", "APPLICATION/JSON"),
            fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
          ),
          { nil: undefined },
        ),
        weight: 2,
      },
    );
    const contentLength = fc.option(fc.constantFrom("0", "1", "10", "70000", "abc", "-1"), { nil: undefined, freq: 8 });

    const fieldValue = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(["https://a.example/cb"], ["javascript:alert(1)"], ["authorization_code"], ["code", "id_token"], "none", "public", "private", [], null),
    );
    const fieldName = fc.constantFrom(
      "client_name", "grant_types", "response_types", "redirect_uris", "scopes", "optional_scopes",
      "token_endpoint_auth_method", "allowed_cors_origins", "post_logout_redirect_uris", "client_uri", "logo_uri",
      "policy_uri", "tos_uri", "visibility", "client_id", "client_secret", "__proto__", "constructor", "has_rotated_secret",
      // The extensions' bodies: rotation's grace period, the purge's parameters.
      "grace_period_seconds", "idle_for_seconds", "sources", "limit", "cursor",
    );
    const mutatedClient = fc
      .tuple(fc.boolean(), fc.dictionary(fieldName, fieldValue, { maxKeys: 5 }))
      .map(([base, extra]) => JSON.stringify({ ...(base ? validCreateBody() : {}), ...extra }));
    const depth = fc.integer({ min: 1, max: 40_000 });
    const body = fc.oneof(
      fc.constant(null),
      fc.constant(""),
      { arbitrary: mutatedClient, weight: 6 },
      {
        arbitrary: fc.constantFrom(
          "{}",
          '{"client_name":"Renamed"}',
          '{"scopes":["zone.edit"]}',
          '{"response_types":["code","id_token"]}',
          '{"allowed_cors_origins":["https://App.example.com/"]}',
          '{"visibility":"public"}',
        ),
        weight: 3,
      },
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      depth.map((n) => "[".repeat(n) + "]".repeat(n)),
      depth.map((n) => `{"client_name":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`),
      fc.integer({ min: 60_000, max: 140_000 }).map((n) => JSON.stringify(validCreateBody({ client_name: "x".repeat(n) }))),
      fc.uint8Array({ maxLength: 300 }),
      fc.constant(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
    );

    await fc.assert(
      fc.asyncProperty(method, path, query, authorization, contentType, contentLength, body, async (m, p, q, auth, type, length, payload) => {
        const headers = new Headers();
        if (auth !== undefined) headers.set("authorization", auth);
        if (type !== undefined) headers.set("content-type", type);
        if (length !== undefined) headers.set("content-length", length);
        const upper = m.toUpperCase();
        const bodyAllowed = upper !== "GET" && upper !== "HEAD";
        const request = new Request(`http://localhost${p}${q}`, {
          method: m,
          headers,
          body: bodyAllowed ? (payload as BodyInit | null) : null,
        });
        const { handler, registry, writes } = await seededHarness();
        const before = writes();
        const snapshot = JSON.stringify(await registry.list(ACCOUNT, { limit: 100 }));
        const response = await handler(request);

        expect(response.status).toBeLessThan(500);
        expect([200, 400, 401, 403, 404, 405, 409, 413, 415]).toContain(response.status);
        if (upper !== "HEAD") {
          const envelope = (await response.json()) as Envelope | { openapi: string };
          if (!("openapi" in envelope)) {
            expect(envelope.success).toBe(response.status === 200);
            expect(Array.isArray(envelope.errors) && Array.isArray(envelope.messages)).toBe(true);
            for (const error of envelope.errors) expect(error.code).toBeGreaterThanOrEqual(1000);
          }
        }
        if (response.status !== 200) {
          expect(writes()).toBe(before);
          expect(JSON.stringify(await registry.list(ACCOUNT, { limit: 100 }))).toBe(snapshot);
        }
      }),
      { numRuns: RUNS },
    );
    expect(unhandled).toEqual([]);
  }, 120_000);
});
