/**
 * Option checks run when a registry or a handler is created. A wrong value
 * (a typo in a config file, a string from an environment variable, `NaN`)
 * is a `TypeError` at start-up naming the option and the values it accepts,
 * rather than a misleading failure of every later call: `maxWriteAttempts:
 * NaN` would otherwise make every create a `client_id_taken` conflict.
 *
 * Only options that exist are checked; a name these functions do not know
 * is left alone, so options added elsewhere need no change here.
 */
import { DEFAULT_LIMITS } from "../fields.js";

/** Upper bound of `maxWriteAttempts`: past it, a conflict is an outage rather than contention. */
export const MAX_WRITE_ATTEMPTS_LIMIT = 1000;
/** Longest `secretPrefix`: a scanner-friendly tag, not a second secret. */
export const MAX_SECRET_PREFIX_LENGTH = 32;
/** Longest `verificationPrefix`: it shares a 255-byte TXT string with a 43-character token. */
export const MAX_VERIFICATION_PREFIX_LENGTH = 64;

const SECRET_PREFIX = /^[A-Za-z0-9._~-]*$/;
const VERIFICATION_PREFIX = /^[\x21-\x3c\x3e-\x7e]+$/;

type Options = Record<string, unknown>;

/** A stable, short rendering of a refused value for the message (never the whole of a long string). */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (typeof value === "function") return "a function";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function fail(owner: string, name: string, accepted: string, value: unknown): never {
  throw new TypeError(`${owner}: ${name} must be ${accepted}; got ${shown(value)}`);
}

function asOptions(owner: string, name: string, value: unknown): Options {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(owner, name, "an object", value);
  return value as Options;
}

function integer(owner: string, options: Options, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const value = options[name];
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(owner, name, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`, value);
  }
}

function milliseconds(owner: string, options: Options, name: string, min: "positive" | "non-negative"): void {
  const value = options[name];
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (min === "positive" && value === 0)) {
    fail(owner, name, `a ${min} finite number of milliseconds`, value);
  }
}

/** `within` names the enclosing option (`privateKeyJwt.verifier.`) in the message. */
function func(owner: string, options: Options, name: string, shape: string, within = ""): void {
  const value = options[name];
  if (value !== undefined && typeof value !== "function") fail(owner, `${within}${name}`, `a function ${shape}`, value);
}

function boolean(owner: string, options: Options, name: string, within = ""): void {
  const value = options[name];
  if (value !== undefined && typeof value !== "boolean") fail(owner, `${within}${name}`, "true or false", value);
}

function hasMethods(owner: string, name: string, value: unknown, methods: readonly string[], shape: string): void {
  if (value === undefined) return;
  const object = value as Options | null;
  if (object === null || (typeof object !== "object" && typeof object !== "function") || methods.some((m) => typeof object[m] !== "function")) {
    fail(owner, name, shape, value);
  }
}

function stringList(owner: string, name: string, value: unknown, entry: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item === "")) fail(owner, name, `an array of ${entry}`, value);
}

const REGISTRY = "createOAuthClientRegistry";

/**
 * Checks the options of `createOAuthClientRegistry`; throws a `TypeError`
 * naming the first wrong option and the values it accepts. `limits` values
 * are checked by the registry itself against its own defaults.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 *
 * createOAuthClientRegistry(createMemoryStore(), { maxWriteAttempts: Number("abc") });
 * // TypeError: createOAuthClientRegistry: maxWriteAttempts must be an integer from 1 to 1000; got NaN
 * ```
 */
export function validateRegistryOptions(value: unknown): void {
  const options = asOptions(REGISTRY, "options", value ?? {});
  const catalog = options.scopeCatalog;
  if (catalog !== undefined && !Array.isArray(catalog)) {
    hasMethods(REGISTRY, "scopeCatalog", catalog, ["has", "list"], "an array of scope names or an object { has(scope), list() }");
  }
  stringList(REGISTRY, "scopeCatalog", Array.isArray(catalog) ? catalog : undefined, "non-empty scope names");
  stringList(REGISTRY, "identityScopes", options.identityScopes, 'non-empty scope names (e.g. ["profile", "email"])');
  func(REGISTRY, options, "now", "returning a Date");
  hasMethods(REGISTRY, "hasher", options.hasher, ["hash", "verify"], "an object { hash(secret), verify(secret, stored) }");
  hasMethods(REGISTRY, "importHasher", options.importHasher, ["hash", "verify"], "an object { hash(secret), verify(secret, stored) }");
  func(REGISTRY, options, "resolveTxt", "(hostname) => Promise<string[][]>");
  const verificationPrefix = options.verificationPrefix;
  if (
    verificationPrefix !== undefined &&
    (typeof verificationPrefix !== "string" || verificationPrefix.length > MAX_VERIFICATION_PREFIX_LENGTH || !VERIFICATION_PREFIX.test(verificationPrefix))
  ) {
    fail(REGISTRY, "verificationPrefix", `a string of 1 to ${MAX_VERIFICATION_PREFIX_LENGTH} printable ASCII characters without spaces or "="`, verificationPrefix);
  }
  const secretPrefix = options.secretPrefix;
  if (secretPrefix !== undefined && (typeof secretPrefix !== "string" || secretPrefix.length > MAX_SECRET_PREFIX_LENGTH || !SECRET_PREFIX.test(secretPrefix))) {
    fail(REGISTRY, "secretPrefix", `a string of at most ${MAX_SECRET_PREFIX_LENGTH} URL-safe characters (A-Z a-z 0-9 . _ ~ -)`, secretPrefix);
  }
  if (options.limits !== undefined) {
    const limits = asOptions(REGISTRY, "limits", options.limits);
    for (const [name, limit] of Object.entries(limits)) {
      // A misspelt limit would otherwise leave the default in force without a word.
      if (!(name in DEFAULT_LIMITS)) fail(REGISTRY, `limits.${name}`, `one of ${Object.keys(DEFAULT_LIMITS).join(", ")} (no such limit)`, limit);
      if (limit !== undefined && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1)) fail(REGISTRY, `limits.${name}`, "a positive integer", limit);
    }
  }
  integer(REGISTRY, options, "maxWriteAttempts", 1, MAX_WRITE_ATTEMPTS_LIMIT);
  milliseconds(REGISTRY, options, "rotatedSecretTtlMs", "positive");
  func(REGISTRY, options, "onEvent", "(event) => void");
  func(REGISTRY, options, "generateClientId", "returning a string");
  func(REGISTRY, options, "generateSecret", "returning a string");
  func(REGISTRY, options, "generateVerificationToken", "returning a string");
  integer(REGISTRY, options, "slowHashConcurrency", 1);
  integer(REGISTRY, options, "slowHashQueueLimit", 0);
  milliseconds(REGISTRY, options, "lastUsedWriteIntervalMs", "non-negative");
  if (options.clientIdMetadataDocuments !== undefined) {
    const cimd = asOptions(REGISTRY, "clientIdMetadataDocuments", options.clientIdMetadataDocuments);
    if (typeof cimd.accountId !== "string" || cimd.accountId === "") {
      fail(REGISTRY, "clientIdMetadataDocuments.accountId", "a non-empty account id", cimd.accountId);
    }
    func(REGISTRY, cimd, "fetchClientMetadata", "(url) => Promise<unknown>", "clientIdMetadataDocuments.");
  }
  if (options.privateKeyJwt !== undefined) {
    const jwt = asOptions(REGISTRY, "privateKeyJwt", options.privateKeyJwt);
    func(REGISTRY, jwt, "fetchKeySet", "(jwksUri, { refresh }) => Promise<key set>", "privateKeyJwt.");
    if (jwt.verifier !== undefined) {
      const verifier = asOptions(REGISTRY, "privateKeyJwt.verifier", jwt.verifier);
      if (verifier.algorithms !== undefined && (!Array.isArray(verifier.algorithms) || verifier.algorithms.length === 0)) {
        fail(REGISTRY, "privateKeyJwt.verifier.algorithms", "a non-empty array of asymmetric JWS algorithm names", verifier.algorithms);
      }
      for (const name of ["clockToleranceSeconds", "maxLifetimeSeconds"] as const) {
        const seconds = verifier[name];
        const positive = name === "maxLifetimeSeconds";
        if (seconds !== undefined && (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || (positive && seconds === 0))) {
          fail(REGISTRY, `privateKeyJwt.verifier.${name}`, `a ${positive ? "positive" : "non-negative"} finite number of seconds`, seconds);
        }
      }
      hasMethods(REGISTRY, "privateKeyJwt.verifier.replayCache", verifier.replayCache, ["add"], "a replay cache { add(key, expiresAtMs) }");
      func(REGISTRY, verifier, "now", "returning a Date", "privateKeyJwt.verifier.");
      boolean(REGISTRY, verifier, "singleAudience", "privateKeyJwt.verifier.");
    }
  }
}

const FETCH_HANDLER = "createFetchHandler";

/**
 * Checks the options of `createFetchHandler` (the base path is checked when
 * it is normalized).
 *
 * @example
 * ```ts
 * import { createFetchHandler } from "oauth-client-registry/http";
 *
 * createFetchHandler(registry, { authorize: () => true, maxBodyBytes: 0 });
 * // TypeError: createFetchHandler: maxBodyBytes must be an integer ≥ 1; got 0
 * ```
 */
export function validateFetchHandlerOptions(value: unknown): void {
  if (value === null || typeof value !== "object" || typeof (value as Options).authorize !== "function") {
    throw new TypeError("createFetchHandler: options.authorize is required (a function deciding every call)");
  }
  const options = value as Options;
  if (options.basePath !== undefined && typeof options.basePath !== "string") fail(FETCH_HANDLER, "basePath", 'a URL path such as "/client/v4"', options.basePath);
  integer(FETCH_HANDLER, options, "maxBodyBytes", 1);
  boolean(FETCH_HANDLER, options, "serveOpenApi");
  func(FETCH_HANDLER, options, "describeScope", "(scope) => { name?, category?, scopes? } | undefined");
  func(FETCH_HANDLER, options, "onError", "(error, request) => void");
}

const REGISTRATION_HANDLER = "createRegistrationHandler";

/**
 * Checks the options of `createRegistrationHandler` that the handler does
 * not check itself (the account, path, base URL and numbers are checked
 * where they are normalized).
 *
 * @example
 * ```ts
 * import { createRegistrationHandler } from "oauth-client-registry/registration";
 *
 * createRegistrationHandler(registry, { accountId: "registered", cors: "yes" as unknown as boolean });
 * // TypeError: createRegistrationHandler: cors must be true or false; got "yes"
 * ```
 */
export function validateRegistrationHandlerOptions(value: unknown): void {
  if (value === null || typeof value !== "object") throw new TypeError("createRegistrationHandler: options are required");
  const options = value as Options;
  if (options.accountId !== undefined && typeof options.accountId !== "string") fail(REGISTRATION_HANDLER, "accountId", "an account id (a string)", options.accountId);
  func(REGISTRATION_HANDLER, options, "resolveAccount", "(request) => account id");
  func(REGISTRATION_HANDLER, options, "initialAccessToken", "(token, request) => boolean");
  func(REGISTRATION_HANDLER, options, "policy", "(metadata, context) => metadata");
  func(REGISTRATION_HANDLER, options, "rateLimit", "(request) => boolean");
  const limit = options.clientLimit as { reserve?: unknown; settle?: unknown } | undefined;
  if (limit !== undefined && (typeof limit !== "object" || limit === null || typeof limit.reserve !== "function" || typeof limit.settle !== "function")) {
    fail(REGISTRATION_HANDLER, "clientLimit", "a client limit from createRegistrationClientLimit", limit);
  }
  func(REGISTRATION_HANDLER, options, "now", "returning a Date");
  func(REGISTRATION_HANDLER, options, "onError", "(error, request) => void");
  boolean(REGISTRATION_HANDLER, options, "cors");
  for (const name of ["path", "baseUrl"]) {
    if (options[name] !== undefined && typeof options[name] !== "string") fail(REGISTRATION_HANDLER, name, name === "path" ? 'a URL path such as "/register"' : "an absolute http(s) URL", options[name]);
  }
  integer(REGISTRATION_HANDLER, options, "maxBodyBytes", 1);
  integer(REGISTRATION_HANDLER, options, "rateLimitRetryAfterSeconds", 1);
  integer(REGISTRATION_HANDLER, options, "secretLifetimeSeconds", 1);
}
