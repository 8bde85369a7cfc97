/**
 * Every path is bounded before work (issue 20, item 3): a client body
 * (create, update, import, registration) and a Client ID Metadata Document
 * (whatever fetcher returned it) are checked against the JSON bounds
 * (depth, values, string length, size) before any mapping, zod parse or
 * JSON.stringify, and anything past a bound, or not JSON data at all, ends
 * in the typed error with a pointer — never a RangeError, never a 500.
 */
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ClientMetadataError, DEFAULT_LIMITS, ValidationError, type CreateClientInput } from "../src/index.js";
import { createRegistrationHandler } from "../src/registration/index.js";
import { boundedJsonCopy, clientInputBounds, DEFAULT_JSON_BOUNDS } from "../src/rules/json-bounds.js";
import { ACCOUNT, apiRequest, createHarness, envelopeOf } from "./helpers/http.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const URL_ID = "https://tool.example.com/oauth/client.json";
const HUNDRED_THOUSAND = 100_000;

/** `leaf` inside `levels` arrays, built without recursion. */
function nested(levels: number, leaf: unknown = "MIIB"): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** The pointer of the first value past the depth bound under `prefix`: 33 levels of arrays, each at index 0. */
const tooDeepUnder = (prefix: string, levelsUsed: number) =>
  `${prefix}${"/0".repeat(DEFAULT_JSON_BOUNDS.maxDepth + 1 - levelsUsed)}`;

/** A public RSA JWK whose x5c is nested 100,000 deep: the reproduction of the issue. */
const deepKey = () => ({ kty: "RSA", n: "sXch", e: "AQAB", x5c: nested(HUNDRED_THOUSAND) });

/** A string of `length` base64 characters, sized like real key material. */
const base64 = (length: number, seed: number) => Array.from({ length }, (_, i) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789"[(i * 7 + seed) % 42]).join("");

/** Ten RSA-4096 public keys (683-character modulus) with three-certificate x5c chains of about 2 KB each. */
function largeLegitimateKeySet() {
  return {
    keys: Array.from({ length: 10 }, (_, i) => ({
      kty: "RSA",
      kid: `key-${i}`,
      use: "sig",
      alg: "RS256",
      n: base64(683, i),
      e: "AQAB",
      x5c: [base64(2200, i), base64(2000, i + 1), base64(1900, i + 2)],
      x5t: base64(27, i),
      "x5t#S256": base64(43, i),
    })),
  };
}

async function refusal<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).not.toBeInstanceOf(RangeError);
  expect(error).toBeInstanceOf(type);
  return error as E;
}

describe("boundedJsonCopy: one iterative walk, stopping at the first bound crossed", () => {
  it("copies JSON data as plain data, leaving out members set to undefined", () => {
    const input = { a: [1, "x", true, null, { b: -0.5 }], skipped: undefined };
    const result = boundedJsonCopy(input);
    expect(result).toEqual({ value: { a: [1, "x", true, null, { b: -0.5 }] } });
    expect((result as { value: unknown }).value).not.toBe(input);
  });

  it('keeps a member named "__proto__" as an ordinary member, as JSON.parse does', () => {
    const input: unknown = JSON.parse('{"__proto__": {"polluted": true}}');
    const { value } = boundedJsonCopy(input) as { value: Record<string, unknown> };
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, "__proto__")).toBe(true);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("a value 100,000 levels deep stops at level 33 with its pointer, without recursion", () => {
    const result = boundedJsonCopy({ jwks: { keys: [deepKey()] } });
    expect(result).toEqual({
      issue: { path: tooDeepUnder("/jwks/keys/0/x5c", 4), message: "is nested more than 32 levels deep; at most 32 levels are accepted" },
    });
  });

  it("32 levels are accepted, 33 are not", () => {
    expect(boundedJsonCopy(nested(32))).toEqual({ value: nested(32) });
    expect(boundedJsonCopy(nested(33))).toMatchObject({ issue: { path: "/0".repeat(33) } });
  });

  it("bounds the number of values before reading them: a sparse array of a billion entries costs nothing", () => {
    const result = boundedJsonCopy({ list: new Array(1_000_000_000) });
    expect(result).toEqual({ issue: { path: "/list", message: expect.stringContaining("too many values") } });
  });

  it("bounds string length, member-name length and total size", () => {
    const bounds = { maxDepth: 32, maxNodes: 1000, maxStringLength: 10, maxSize: 100 };
    expect(boundedJsonCopy({ a: "x".repeat(11) }, bounds)).toMatchObject({ issue: { path: "/a", message: expect.stringContaining("at most 10") } });
    expect(boundedJsonCopy({ ["k".repeat(11)]: 1 }, bounds)).toMatchObject({ issue: { path: "", message: expect.stringContaining("member name") } });
    const big = Array.from({ length: 20 }, () => "x".repeat(10));
    expect(boundedJsonCopy({ big }, bounds)).toMatchObject({ issue: { message: expect.stringContaining("too large") } });
  });

  it.each([
    ["a function", { a: () => 1 }, "/a", "a function"],
    ["a symbol", { a: Symbol("s") }, "/a", "a symbol"],
    ["a bigint", { a: 1n }, "/a", "a bigint"],
    ["NaN", { a: [Number.NaN] }, "/a/0", "NaN"],
    ["Infinity", { a: Number.POSITIVE_INFINITY }, "/a", "Infinity"],
    ["a Date", { a: new Date(0) }, "/a", "Date"],
    ["a Map", { a: new Map() }, "/a", "Map"],
    ["a class instance", { a: new (class Key {})() }, "/a", "Key"],
    ["undefined in an array", { a: [1, undefined] }, "/a/1", "undefined"],
    // eslint-disable-next-line no-sparse-arrays -- the hole is what is tested
    ["a hole in an array", { a: [1, , 3] }, "/a/1", "undefined"],
  ])("refuses %s with its pointer", (_, input, path, kind) => {
    expect(boundedJsonCopy(input)).toEqual({ issue: { path, message: expect.stringContaining(kind) } });
  });

  it("accepts objects made in another realm (a vm context), as JSON.parse there makes them", () => {
    const foreign: unknown = runInNewContext('JSON.parse(\'{"a":[{"b":1}]}\')');
    expect(boundedJsonCopy(foreign)).toEqual({ value: { a: [{ b: 1 }] } });
  });

  it("refuses a cycle at the member that closes it", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = { back: a };
    expect(boundedJsonCopy(a)).toEqual({ issue: { path: "/self/back", message: expect.stringContaining("cycle") } });
  });

  it("a value referenced twice (not a cycle) is copied twice", () => {
    const shared = { kty: "EC" };
    expect(boundedJsonCopy({ keys: [shared, shared] })).toEqual({ value: { keys: [{ kty: "EC" }, { kty: "EC" }] } });
  });

  it("a getter or proxy trap that throws is a problem at its pointer, not an exception", () => {
    const getter = { a: { get b(): unknown { throw new Error("boom"); } } };
    expect(boundedJsonCopy(getter)).toEqual({ issue: { path: "/a/b", message: expect.stringContaining("could not be read") } });
    const proxy = new Proxy({}, { ownKeys: () => { throw new Error("trap"); } });
    expect(boundedJsonCopy({ p: proxy })).toMatchObject({ issue: { path: "/p" } });
  });

  it("reads each getter once, so later steps see the value that was checked", () => {
    let reads = 0;
    const input = {
      get client_name(): unknown {
        reads++;
        return reads === 1 ? "App" : nested(HUNDRED_THOUSAND);
      },
    };
    expect(boundedJsonCopy(input)).toEqual({ value: { client_name: "App" } });
    expect(reads).toBe(1);
  });

  it("a legitimate maximal body passes: 10 RSA-4096 keys with x5c chains and every list at its limit", () => {
    const body = {
      ...createBody(),
      redirect_uris: Array.from({ length: 100 }, (_, i) => `https://app.example.com/${"p".repeat(2000)}/${i}`),
      post_logout_redirect_uris: Array.from({ length: 100 }, (_, i) => `https://app.example.com/${"q".repeat(2000)}/${i}`),
      allowed_cors_origins: Array.from({ length: 100 }, (_, i) => `https://o${i}.${"r".repeat(2000)}.example`),
      scopes: Array.from({ length: 100 }, (_, i) => `zone.${"s".repeat(120)}${i}`),
      optional_scopes: Array.from({ length: 100 }, (_, i) => `zone.${"s".repeat(120)}${i}`),
      jwks: largeLegitimateKeySet(),
    };
    expect(boundedJsonCopy(body, clientInputBounds(DEFAULT_LIMITS))).toEqual({ value: body });
  });

  it("the bounds rise with configured limits, so a bound never refuses what the field rules accept", () => {
    expect(clientInputBounds(DEFAULT_LIMITS)).toEqual(DEFAULT_JSON_BOUNDS);
    const raised = clientInputBounds({ ...DEFAULT_LIMITS, maxUris: 50_000, maxUriLength: 100_000 });
    expect(raised.maxNodes).toBeGreaterThan(100_000);
    expect(raised.maxStringLength).toBe(100_000);
    expect(raised.maxSize).toBeGreaterThan(100_000 * 100_000);
  });
});

describe("direct library calls: ValidationError with a pointer, nothing stored", () => {
  const deepBody = () => createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [deepKey()] } } as Partial<CreateClientInput>);
  const deepPath = tooDeepUnder("/jwks/keys/0/x5c", 4);

  it("create", async () => {
    const { registry } = registryFixture();
    const error = await refusal(registry.create("acct", deepBody()), ValidationError);
    expect(error.issues).toEqual([{ path: deepPath, message: expect.stringContaining("nested more than 32 levels") }]);
    expect((await registry.list("acct")).clients).toEqual([]);
  });

  it("update", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", createBody({ token_endpoint_auth_method: "none" }));
    const error = await refusal(registry.update("acct", created.client_id, { jwks: { keys: [deepKey()] } } as never), ValidationError);
    expect(error.issues).toEqual([{ path: deepPath, message: expect.stringContaining("nested") }]);
    expect((await registry.get("acct", created.client_id)).updated_at).toBe(created.updated_at);
  });

  it("registerClient and updateRegistration", async () => {
    const { registry } = registryFixture();
    const error = await refusal(registry.registerClient("acct", deepBody()), ValidationError);
    expect(error.issues).toEqual([{ path: deepPath, message: expect.stringContaining("nested") }]);
    expect((await registry.list("acct")).clients).toEqual([]);
    const registered = await registry.registerClient("acct", createBody({ token_endpoint_auth_method: "none" }));
    const update = registry.updateRegistration(registered.client.client_id, registered.registration_access_token!, deepBody());
    expect((await refusal(update, ValidationError)).issues[0]!.path).toBe(deepPath);
  });

  it("importClient", async () => {
    const { registry } = registryFixture();
    const input = { ...deepBody(), client_id: "legacy-app" };
    const error = await refusal(registry.importClient("acct", input), ValidationError);
    expect(error.issues).toEqual([{ path: deepPath, message: expect.stringContaining("nested") }]);
    expect(await registry.findClient("legacy-app")).toBeNull();
  });

  it("importClient reads a getter of its own members once, inside the check: one that throws is an issue at its pointer", async () => {
    const { registry } = registryFixture();
    const input = { ...createBody({ token_endpoint_auth_method: "none" }) } as Record<string, unknown>;
    Object.defineProperty(input, "client_id", { enumerable: true, get: () => { throw new Error("boom"); } });
    const error = await refusal(registry.importClient("acct", input as never), ValidationError);
    expect(error.issues).toEqual([{ path: "/client_id", message: expect.any(String) }]);
    expect((await registry.list("acct")).clients).toEqual([]);
  });

  it("any member, not only jwks: an unknown member nested 100,000 deep", async () => {
    const { registry } = registryFixture();
    const error = await refusal(registry.create("acct", { ...createBody(), extra: nested(HUNDRED_THOUSAND) } as never), ValidationError);
    expect(error.issues).toEqual([{ path: `/extra${"/0".repeat(32)}`, message: expect.stringContaining("nested") }]);
  });

  it("a cyclic body is refused with its pointer", async () => {
    const { registry } = registryFixture();
    const body: Record<string, unknown> = { ...createBody() };
    body.jwks = { keys: [{ kty: "EC", again: body }] };
    const error = await refusal(registry.create("acct", body as never), ValidationError);
    expect(error.issues).toEqual([{ path: "/jwks/keys/0/again", message: expect.stringContaining("cycle") }]);
  });

  it("over HTTP, a registration body nested 30,000 deep (within 64 KiB) is a 400 invalid_client_metadata, not a 500", async () => {
    const { registry } = registryFixture();
    const handler = createRegistrationHandler(registry, { accountId: "registered" });
    const depth = 30_000;
    const text =
      '{"redirect_uris":["https://tool.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt",' +
      `"jwks":{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB","x5c":${"[".repeat(depth)}"MIIB"${"]".repeat(depth)}}]}}`;
    const response = await handler(new Request("http://localhost/register", { method: "POST", headers: { "content-type": "application/json" }, body: text }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_client_metadata" });
    expect((await registry.list("registered")).clients).toEqual([]);
  });

  it("over the management API, a create body nested 30,000 deep is a 400 (the HTTP layer's own depth bound, also 32), not a 500", async () => {
    const { handler, registry } = createHarness();
    const depth = 30_000;
    const body = JSON.stringify({ ...createBody({ scopes: ["zone.read"] }), jwks: "X" }).replace('"X"', `${"[".repeat(depth)}1${"]".repeat(depth)}`);
    const response = await handler(apiRequest("POST", `/accounts/${ACCOUNT}/oauth_clients`, { body, headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(400);
    const envelope = await envelopeOf(response);
    expect(envelope.errors).toEqual([expect.objectContaining({ message: expect.stringContaining("deeper than 32 levels") })]);
    expect((await registry.list(ACCOUNT)).clients).toEqual([]);
  });
});

describe("metadata documents from any fetcher: ClientMetadataError with a pointer, nothing stored", () => {
  const document = (overrides: Record<string, unknown> = {}) => ({
    client_id: URL_ID,
    client_name: "Tool",
    redirect_uris: ["https://tool.example.com/cb"],
    token_endpoint_auth_method: "none",
    ...overrides,
  });

  function fixtureReturning(make: () => unknown) {
    const fetched: string[] = [];
    const fixture = registryFixture({
      clientIdMetadataDocuments: {
        accountId: "acct_cimd",
        fetchClientMetadata: async (url) => {
          fetched.push(url);
          return make();
        },
      },
    });
    return { ...fixture, fetched };
  }

  it("a document whose jwks.keys[0].x5c is nested 100,000 deep", async () => {
    const { registry, store, fetched } = fixtureReturning(() =>
      document({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [deepKey()] } }),
    );
    const error = await refusal(registry.resolveClient(URL_ID), ClientMetadataError);
    expect(error.issues).toEqual([
      { path: tooDeepUnder("/jwks/keys/0/x5c", 4), message: expect.stringMatching(/^the client metadata document member is nested more than 32 levels/) },
    ]);
    expect(error).toMatchObject({ code: "invalid_client_metadata", status: 400 });
    expect(fetched).toEqual([URL_ID]);
    expect(await store.getById(URL_ID)).toBeNull();
  });

  it("a deep member the mapping ignores (contacts) is refused too: the bound runs before the mapping", async () => {
    const { registry } = fixtureReturning(() => document({ contacts: nested(HUNDRED_THOUSAND) }));
    const error = await refusal(registry.resolveClient(URL_ID), ClientMetadataError);
    expect(error.issues[0]!.path).toBe(`/contacts${"/0".repeat(32)}`);
  });

  it("a whole document nested 100,000 deep", async () => {
    const { registry } = fixtureReturning(() => nested(HUNDRED_THOUSAND, document()));
    const error = await refusal(registry.resolveClient(URL_ID), ClientMetadataError);
    expect(error.issues[0]!.path).toBe("/0".repeat(33));
  });

  it.each([
    ["a function", () => () => document(), ""],
    ["a class instance", () => Object.assign(new (class Doc {})(), document()), ""],
    ["a cycle", () => {
      const doc: Record<string, unknown> = document();
      doc.self = doc;
      return doc;
    }, "/self"],
    ["a getter that throws", () => Object.defineProperty(document(), "client_name", { enumerable: true, get: () => { throw new Error("boom"); } }), "/client_name"],
    ["a proxy whose traps throw", () => new Proxy(document(), { ownKeys: () => { throw new Error("trap"); } }), ""],
    ["a bigint member", () => document({ software_version: 1n }), "/software_version"],
  ])("an injected fetcher returning %s", async (_, make, path) => {
    const { registry, store } = fixtureReturning(make);
    const error = await refusal(registry.resolveClient(URL_ID), ClientMetadataError);
    expect(error.issues).toEqual([{ path, message: expect.stringMatching(/^the client metadata document /) }]);
    expect(await store.getById(URL_ID)).toBeNull();
  });

  it("a fetcher's failure message is clipped, and one whose message getter throws still gives the typed error", async () => {
    const long = registryFixture({
      clientIdMetadataDocuments: { accountId: "a", fetchClientMetadata: async () => { throw new Error("x".repeat(100_000)); } },
    });
    const error = await refusal(long.registry.resolveClient(URL_ID), ClientMetadataError);
    expect(error.issues[0]!.message.length).toBeLessThan(400);
    const hostile = Object.defineProperty(new Error(), "message", { get: () => { throw new Error("again"); } });
    const odd = registryFixture({
      clientIdMetadataDocuments: { accountId: "a", fetchClientMetadata: async () => { throw hostile; } },
    });
    await refusal(odd.registry.resolveClient(URL_ID), ClientMetadataError);
  });

  it("an ordinary document is unaffected and stored", async () => {
    const { registry } = fixtureReturning(() => document({ contacts: ["ops@tool.example.com"] }));
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ client_id: URL_ID, source: "cimd", client_name: "Tool" });
  });
});
