/**
 * Every registry and handler option is checked when the registry or handler
 * is created: a wrong value is a TypeError naming the option and what it
 * accepts, never a silent clamp or a misleading failure of later calls.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry, type OAuthClientRegistryOptions } from "../src/index.js";
import { createFetchHandler, type FetchHandlerOptions } from "../src/http/index.js";
import { createRegistrationHandler, type RegistrationHandlerOptions } from "../src/registration/index.js";
import { validCreateBody } from "./helpers/http.js";

const make = (options: unknown) => () => createOAuthClientRegistry(createMemoryStore(), options as OAuthClientRegistryOptions);
const hasher = { hash: async (s: string) => s, verify: async () => false };

// [option, a refused value, what the message must say it accepts, an accepted value]
const registryCases: [string, unknown, RegExp, unknown][] = [
  ["maxWriteAttempts", NaN, /maxWriteAttempts must be an integer from 1 to 1000; got NaN/, 3],
  ["maxWriteAttempts", "abc", /maxWriteAttempts must be an integer from 1 to 1000; got "abc"/, 1],
  ["maxWriteAttempts", -1, /maxWriteAttempts must be an integer from 1 to 1000; got -1/, 1000],
  ["maxWriteAttempts", 2.5, /maxWriteAttempts must be an integer/, 8],
  ["maxWriteAttempts", 1001, /maxWriteAttempts must be an integer from 1 to 1000/, 50],
  ["secretPrefix", 5, /secretPrefix must be a string of at most 32 URL-safe characters/, "ocs_"],
  ["secretPrefix", "has space", /secretPrefix must be a string of at most 32 URL-safe/, ""],
  ["secretPrefix", "x".repeat(33), /secretPrefix must be a string of at most 32/, "x".repeat(32)],
  ["identityScopes", "profile", /identityScopes must be an array of non-empty scope names/, ["profile"]],
  ["identityScopes", ["profile", 7], /identityScopes must be an array/, []],
  ["identityScopes", [""], /identityScopes must be an array of non-empty/, ["address"]],
  ["verificationPrefix", "", /verificationPrefix must be a string of 1 to 64 printable ASCII characters without spaces or "="/, "example-verify"],
  ["verificationPrefix", "a=b", /verificationPrefix must be a string of 1 to 64/, "_verify"],
  ["verificationPrefix", "a b", /verificationPrefix must be/, "v"],
  ["verificationPrefix", 1, /verificationPrefix must be/, "v".repeat(64)],
  ["scopeCatalog", "zone.read", /scopeCatalog must be an array of scope names or an object \{ has\(scope\), list\(\) \}/, ["zone.read"]],
  ["scopeCatalog", { has: () => true }, /scopeCatalog must be an array of scope names or an object/, { has: () => true, list: () => [] }],
  ["scopeCatalog", [1], /scopeCatalog must be an array of non-empty scope names/, []],
  ["now", new Date(0), /now must be a function returning a Date/, () => new Date(0)],
  ["hasher", { hash: () => "" }, /hasher must be an object \{ hash\(secret\), verify\(secret, stored\) \}/, hasher],
  ["importHasher", "scrypt", /importHasher must be an object \{ hash\(secret\), verify/, hasher],
  ["resolveTxt", "8.8.8.8", /resolveTxt must be a function \(hostname\) => Promise<string\[\]\[\]>/, async () => []],
  ["limits", 5, /limits must be an object/, { maxUris: 10 }],
  ["limits", { maxUris: 0 }, /limits\.maxUris must be a positive integer; got 0/, {}],
  ["limits", { maxUri: 10 }, /limits\.maxUri must be one of maxUriLength, .* \(no such limit\)/, { maxUriLength: 100, maxUris: undefined }],
  ["rotatedSecretTtlMs", 0, /rotatedSecretTtlMs must be a positive finite number of milliseconds; got 0/, 1],
  ["rotatedSecretTtlMs", Infinity, /rotatedSecretTtlMs must be a positive finite number/, 86_400_000],
  ["onEvent", "log", /onEvent must be a function \(event\) => void/, () => {}],
  ["generateClientId", "abc", /generateClientId must be a function returning a string/, () => "a".repeat(32)],
  ["generateSecret", 1, /generateSecret must be a function returning a string/, () => "s".repeat(43)],
  ["generateVerificationToken", 1, /generateVerificationToken must be a function returning a string/, () => "t"],
  ["slowHashConcurrency", 0, /slowHashConcurrency must be an integer ≥ 1; got 0/, 1],
  ["slowHashQueueLimit", -1, /slowHashQueueLimit must be an integer ≥ 0; got -1/, 0],
  ["lastUsedWriteIntervalMs", -1, /lastUsedWriteIntervalMs must be a non-negative finite number of milliseconds; got -1/, 0],
  ["lastUsedWriteIntervalMs", NaN, /lastUsedWriteIntervalMs must be a non-negative finite/, 60_000],
  ["clientIdMetadataDocuments", true, /clientIdMetadataDocuments must be an object/, { accountId: "cimd" }],
  ["clientIdMetadataDocuments", {}, /clientIdMetadataDocuments\.accountId must be a non-empty account id; got undefined/, { accountId: "cimd", fetchClientMetadata: async () => ({}) }],
  ["clientIdMetadataDocuments", { accountId: "cimd", fetchClientMetadata: "https://x" }, /clientIdMetadataDocuments\.fetchClientMetadata must be a function \(url\) => Promise<unknown>/, { accountId: "c" }],
  ["privateKeyJwt", [], /privateKeyJwt must be an object; got an array/, {}],
  ["privateKeyJwt", { fetchKeySet: 1 }, /privateKeyJwt\.fetchKeySet must be a function/, { fetchKeySet: async () => ({ keys: [] }) }],
  ["privateKeyJwt", { verifier: { clockToleranceSeconds: -1 } }, /privateKeyJwt\.verifier\.clockToleranceSeconds must be a non-negative finite number of seconds/, { verifier: { clockToleranceSeconds: 0 } }],
  ["privateKeyJwt", { verifier: { maxLifetimeSeconds: 0 } }, /privateKeyJwt\.verifier\.maxLifetimeSeconds must be a positive finite number of seconds/, { verifier: { maxLifetimeSeconds: 60 } }],
  ["privateKeyJwt", { verifier: { algorithms: [] } }, /privateKeyJwt\.verifier\.algorithms must be a non-empty array/, { verifier: { algorithms: ["ES256"] } }],
  ["privateKeyJwt", { verifier: { replayCache: new Map() } }, /privateKeyJwt\.verifier\.replayCache must be a replay cache \{ add\(key, expiresAtMs\) \}/, { verifier: { replayCache: { add: () => true } } }],
  ["privateKeyJwt", { verifier: { singleAudience: "yes" } }, /privateKeyJwt\.verifier\.singleAudience must be true or false/, { verifier: { singleAudience: true } }],
];

describe("createOAuthClientRegistry options", () => {
  it.each(registryCases)("%s: %j is refused with the accepted range; %j is accepted", (name, bad, message, good) => {
    expect(make({ [name]: bad })).toThrow(TypeError);
    expect(make({ [name]: bad })).toThrow(new RegExp(`^createOAuthClientRegistry: ${message.source}`));
    expect(make({ [name]: good })).not.toThrow();
  });

  it("options themselves must be an object", () => {
    expect(make("fast")).toThrow(/^createOAuthClientRegistry: options must be an object; got "fast"/);
    expect(make(undefined)).not.toThrow();
  });

  it("maxWriteAttempts: NaN no longer turns every create into a client_id_taken conflict", async () => {
    // The failure this check replaces: Math.max(1, NaN) is NaN, so the create loop never ran.
    expect(make({ maxWriteAttempts: NaN })).toThrow(/maxWriteAttempts/);
    const registry = createOAuthClientRegistry(createMemoryStore(), { maxWriteAttempts: 1 });
    await expect(registry.create("acct", validCreateBody() as never)).resolves.toMatchObject({ client_name: expect.any(String) });
  });

  it("a long refused string is shown clipped, not whole", () => {
    expect(make({ secretPrefix: `${"y".repeat(100)} ` })).toThrow(/got "y{40}…"$/);
  });
});

describe("createFetchHandler options", () => {
  const registry = createOAuthClientRegistry(createMemoryStore());
  const authorize = () => true;
  const handler = (options: unknown) => () => createFetchHandler(registry, options as FetchHandlerOptions);
  it.each<[string, unknown, RegExp, unknown]>([
    ["maxBodyBytes", 0, /maxBodyBytes must be an integer ≥ 1; got 0/, 1024],
    ["maxBodyBytes", "64kb", /maxBodyBytes must be an integer ≥ 1; got "64kb"/, 65_536],
    ["basePath", 1, /basePath must be a URL path such as "\/client\/v4"; got 1/, "/api"],
    ["serveOpenApi", "no", /serveOpenApi must be true or false; got "no"/, false],
    ["describeScope", {}, /describeScope must be a function/, () => undefined],
    ["onError", console, /onError must be a function \(error, request\) => void/, () => {}],
  ])("%s: %j is refused; %j is accepted", (name, bad, message, good) => {
    expect(handler({ authorize, [name]: bad })).toThrow(TypeError);
    expect(handler({ authorize, [name]: bad })).toThrow(new RegExp(`^createFetchHandler: ${message.source}`));
    expect(handler({ authorize, [name]: good })).not.toThrow();
  });

  it("authorize is required and must be a function", () => {
    for (const options of [undefined, {}, { authorize: true }]) expect(handler(options)).toThrow(/options\.authorize is required/);
  });
});

describe("createRegistrationHandler options", () => {
  const registry = createOAuthClientRegistry(createMemoryStore());
  const handler = (options: unknown) => () => createRegistrationHandler(registry, options as RegistrationHandlerOptions);
  it.each<[string, unknown, RegExp, unknown]>([
    ["cors", "yes", /cors must be true or false; got "yes"/, true],
    ["resolveAccount", "tenant-a", /resolveAccount must be a function/, undefined],
    ["initialAccessToken", "secret", /initialAccessToken must be a function \(token, request\) => boolean/, () => true],
    ["policy", {}, /policy must be a function \(metadata, context\) => metadata/, (m: unknown) => m],
    ["rateLimit", 10, /rateLimit must be a function \(request\) => boolean/, () => true],
    ["now", Date.now(), /now must be a function returning a Date/, () => new Date()],
    ["onError", "console", /onError must be a function/, () => {}],
    ["path", 7, /path must be a URL path such as "\/register"/, "/dcr"],
    ["baseUrl", 7, /baseUrl must be an absolute http\(s\) URL/, "https://auth.example.com"],
    ["maxBodyBytes", -5, /maxBodyBytes must be an integer ≥ 1; got -5/, 4096],
    ["rateLimitRetryAfterSeconds", 0.5, /rateLimitRetryAfterSeconds must be an integer ≥ 1/, 30],
    ["secretLifetimeSeconds", "90d", /secretLifetimeSeconds must be an integer ≥ 1; got "90d"/, 86_400],
  ])("%s: %j is refused; %j is accepted", (name, bad, message, good) => {
    expect(handler({ accountId: "registered", [name]: bad })).toThrow(TypeError);
    expect(handler({ accountId: "registered", [name]: bad })).toThrow(new RegExp(`^createRegistrationHandler: ${message.source}`));
    expect(handler({ accountId: "registered", [name]: good })).not.toThrow();
  });

  it("accountId must be a string", () => {
    expect(handler({ accountId: 42 })).toThrow(/^createRegistrationHandler: accountId must be an account id \(a string\); got 42/);
  });
});
