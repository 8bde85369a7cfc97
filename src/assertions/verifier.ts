/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, RFC 7521
 * §4.2): the client proves who it is with a JWT it signed with a private
 * key whose public half the registry holds (`jwks`) or can fetch
 * (`jwks_uri`). Signatures are checked by `jose`; this module decides
 * which keys and algorithms are acceptable, what the claims must say (the
 * time and audience claims as jose's `jwtVerify` checks them, on the claims
 * decoded once for the whole verification), and that each assertion is used
 * once.
 */

import { compactVerify, createLocalJWKSet, decodeJwt, errors } from "jose";
import type { JWSHeaderParameters, VerifyOptions } from "jose";
import { platformCrypto } from "#platform/crypto";
import { canonicalBase64UrlLength } from "../rules/jwks.js";
import { AssertionError } from "./errors.js";
import { publicKeySet } from "./key-set.js";
import type { KeySetLoader, KeySetSource } from "./key-set.js";
import { createMemoryReplayCache } from "./replay-cache.js";
import type { ReplayCache } from "./replay-cache.js";

/**
 * The signature algorithms a client assertion may use: asymmetric only.
 * `none` would need no key at all, and an `HS*` MAC keyed with a public key
 * would let anyone who knows the public key forge assertions.
 */
export const ASSERTION_ALGORITHMS = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const);

/** One of {@link ASSERTION_ALGORITHMS}. */
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

/** Longest assertion read at all, in characters: bounds decoding and hashing work per request. */
export const MAX_ASSERTION_LENGTH = 16_384;

/**
 * Most keys one assertion is verified with. Several keys fit one assertion
 * only when it names no `kid` (kids are unique per key type in accepted key
 * sets) and the set holds several keys of its algorithm's type, e.g. an old
 * and a new key during a rotation; a client with more such keys must name
 * the `kid`. A forged assertion costs at most this many signature checks
 * per key set (twice for a remote set whose refresh brings a new set).
 */
export const MAX_KEYS_TRIED = 2;

/**
 * Signature length in bytes of the algorithms that fix it (RFC 7518 §3.4,
 * RFC 8037 §3.1). An RSA signature is as long as the key's modulus, which
 * the verification itself checks, so a short one still reports the key.
 */
const SIGNATURE_BYTES: Readonly<Record<string, number>> = {
  ES256: 64,
  ES384: 96,
  ES512: 132,
  EdDSA: 64,
  Ed25519: 64,
};

/** Options of {@link createAssertionVerifier}. */
export interface AssertionVerifierOptions {
  /** Accepted `alg` values, a subset of {@link ASSERTION_ALGORITHMS} (default: all of them). */
  algorithms?: readonly AssertionAlgorithm[];
  /** Allowed clock difference with the client when checking `exp`, `nbf` and `iat` (default 30 s). */
  clockToleranceSeconds?: number;
  /**
   * Longest accepted lifetime: `exp` minus `iat` (or minus now when `iat`
   * is absent) must not exceed it (default 300 s). It also bounds how long
   * the replay cache holds each `jti`.
   */
  maxLifetimeSeconds?: number;
  /**
   * Where used `jti`s are recorded (default: a {@link createMemoryReplayCache}
   * for this verifier, which only covers one process).
   */
  replayCache?: ReplayCache;
  /** Clock, injectable for tests (default `() => new Date()`). */
  now?: () => Date;
  /**
   * Require `aud` to be one value (a string, or an array of one) rather than
   * any list that includes an allowed audience (default false). With the
   * issuer identifier as the only allowed audience, this is the stricter
   * audience rule of the update to RFC 7523 (draft-ietf-oauth-rfc7523bis).
   */
  singleAudience?: boolean;
}

/** What {@link AssertionVerifier.verify} needs besides the assertion. */
export interface VerifyAssertionOptions {
  /**
   * The audiences this server accepts: its token endpoint URL and/or its
   * issuer identifier. An assertion passes when one of its `aud` values
   * equals one of these exactly.
   */
  audience: string | readonly string[];
  /** The client's public keys (see {@link keySetForClient}). */
  keySet: KeySetSource;
  /** The client id the request names (e.g. its `client_id` parameter); `iss` and `sub` must equal it. */
  expectedClientId?: string;
}

/** An assertion that passed every check and was recorded as used. */
export interface VerifiedAssertion {
  /** The authenticated client: the assertion's `iss` and `sub`. */
  clientId: string;
  jti: string;
  /** The assertion's `exp`. */
  expiresAt: Date;
}

/** Verifies `private_key_jwt` client assertions; see {@link createAssertionVerifier}. */
export interface AssertionVerifier {
  /**
   * Verifies one client assertion and records its `jti` as used. Throws
   * {@link AssertionError} with a stable `reason` when it is refused; an
   * error of the replay cache itself (e.g. a shared store that is down) is
   * passed through unchanged.
   */
  verify(assertion: string, options: VerifyAssertionOptions): Promise<VerifiedAssertion>;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const DEFAULT_MAX_LIFETIME_SECONDS = 300;

/**
 * A verifier of `private_key_jwt` client assertions. Checks, in order: the
 * assertion is a compact JWS of three canonical base64url parts, without a
 * `crit` header, whose `typ`, if any, is `JWT` or
 * `client-authentication+jwt` (`malformed`) with an allowed asymmetric `alg`
 * (`algorithm`) and a signature of that algorithm's length (`malformed`); a
 * key of the client's key set verifies it (`key_set`, `key_not_found`,
 * `signature`), trying at most {@link MAX_KEYS_TRIED} keys that fit the
 * `kid`, `alg`, key type and curve — for a remote key set, an unknown `kid`
 * or a signature no cached key verifies triggers exactly one refetch with
 * `{ refresh: true }`, verified again only if it brings another set; then
 * the claims: `exp` present and `aud`
 * (`lifetime`, `audience`), `nbf` and `exp` (`not_yet_valid`, `expired`),
 * `iss` = `sub` = client id (`issuer_subject`), `iat` and the lifetime
 * (`not_yet_valid`, `lifetime`), `jti` (`missing_jti`); and last, single use
 * (`replayed`), within the client's share of the replay cache
 * (`too_many_assertions`, see {@link ReplayCache}). Single use is checked
 * only after everything else passed, so nobody without the client's key
 * can use up one of its `jti`s or its share.
 *
 * @example
 * ```ts
 * import { keySetForClient } from "oauth-client-registry";
 *
 * declare const form: URLSearchParams; // the token request's body
 * const assertion = form.get("client_assertion") ?? "";
 * const verifier = createAssertionVerifier({ maxLifetimeSeconds: 120 });
 * const clientId = peekClientId(assertion);
 * const client = clientId === null ? null : await registry.resolveClient(clientId);
 * if (client === null) throw new Error("invalid_client"); // answer 401 invalid_client
 * const { jti } = await verifier.verify(assertion, {
 *   audience: "https://as.example.com", // the issuer identifier; add the token endpoint URL for older clients
 *   keySet: keySetForClient(client), // a client with a jwks_uri needs a fetcher too
 *   expectedClientId: client.client_id,
 * });
 * ```
 */
export function createAssertionVerifier(options: AssertionVerifierOptions = {}): AssertionVerifier {
  const core = createDecodedAssertionVerifier(options);
  return {
    async verify(assertion, verifyOptions) {
      return core.verifyDecoded(core.decode(assertion), verifyOptions);
    },
  };
}

/**
 * An assertion split and decoded once, before anything is verified: the
 * client lookup reads its claimed client id and the verification its
 * header from the same decoding.
 */
export interface DecodedAssertion {
  readonly assertion: string;
  /** The protected header when it passed the header rules, else the refusal to throw on verification. */
  readonly header: JWSHeaderParameters | AssertionError;
  /**
   * The payload's claims, NOT verified until `verifyDecoded` checked the
   * signature over the same text; null when the header was refused or the
   * payload is not a JSON object.
   */
  readonly unverifiedClaims: Readonly<Record<string, unknown>> | null;
}

/**
 * {@link AssertionVerifier} in two steps, for a caller that needs the
 * claimed client id before it can name the client's keys (the registry's
 * `authenticateAssertion`): `decode` applies the header rules and never
 * throws; `verifyDecoded` does everything `verify` does after that.
 */
export interface DecodedAssertionVerifier {
  decode(assertion: unknown): DecodedAssertion;
  verifyDecoded(decoded: DecodedAssertion, options: VerifyAssertionOptions): Promise<VerifiedAssertion>;
}

/**
 * The verifier behind {@link createAssertionVerifier}, with the decoding
 * step apart (see {@link DecodedAssertionVerifier}).
 *
 * @example
 * ```ts
 * import type { KeySetSource } from "oauth-client-registry";
 *
 * declare const assertion: string;
 * declare function keysOf(clientId: string | null): KeySetSource;
 * const verifier = createDecodedAssertionVerifier({ maxLifetimeSeconds: 120 });
 * const decoded = verifier.decode(assertion);
 * const clientId = claimedClientId(decoded);
 * await verifier.verifyDecoded(decoded, { audience: "https://as.example.com", keySet: keysOf(clientId) });
 * ```
 */
export function createDecodedAssertionVerifier(options: AssertionVerifierOptions = {}): DecodedAssertionVerifier {
  const algorithms = checkAlgorithms(options.algorithms);
  // One set of options for every call: jose reads them, never changes them.
  const jwsOptions: VerifyOptions = { algorithms: [...algorithms] };
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError("clockToleranceSeconds must be a non-negative number of seconds");
  }
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS;
  if (!Number.isFinite(maxLifetime) || maxLifetime <= 0) {
    throw new TypeError("maxLifetimeSeconds must be a positive number of seconds");
  }
  const now = options.now ?? (() => new Date());
  const replayCache = options.replayCache ?? createMemoryReplayCache({ now });
  const singleAudience = options.singleAudience ?? false;
  const importKeySet = createKeySetCache(KEY_SET_CACHE_ENTRIES);
  const readHeader = createHeaderCache(algorithms, HEADER_CACHE_ENTRIES);

  return {
    decode: (assertion) => decodeAssertion(assertion, readHeader),
    async verifyDecoded({ assertion, header, unverifiedClaims }, { audience, keySet, expectedClientId }) {
      const audiences = checkAudience(audience);
      if (header instanceof AssertionError) throw header;
      const currentDate = now();

      if (typeof keySet === "function") {
        const loaded = await loadKeySet(keySet, false);
        const cached = importKeySet(loaded);
        try {
          await verifyWithKeySet(assertion, header, cached, jwsOptions);
        } catch (error) {
          if (!(error instanceof AssertionError) || (error.reason !== "key_not_found" && error.reason !== "signature")) throw error;
          // The client may have rotated its keys since the set was cached.
          const reloaded = await loadKeySet(keySet, true);
          // The same set again (a loader rate-limits refreshes, so a forger
          // mostly gets the cached one): its answer cannot change.
          if (sameJson(reloaded, loaded, 4)) throw error;
          const refreshed = importKeySet(reloaded);
          if (refreshed === cached) throw error;
          await verifyWithKeySet(assertion, header, refreshed, jwsOptions);
        }
      } else {
        await verifyWithKeySet(assertion, header, importKeySet(keySet), jwsOptions);
      }

      // The signature covers the payload text these claims were decoded from: they are verified now.
      if (unverifiedClaims === null) throw new AssertionError("malformed", "the client assertion is not a valid signed JWT: its payload is not a JSON object");
      const nowSeconds = Math.floor(currentDate.getTime() / 1000);
      const rules: ClaimRules = { nowSeconds, clockTolerance, maxLifetime, expectedClientId, singleAudience, audiences };
      const { clientId, jti, exp } = checkClaims(unverifiedClaims, rules);
      // Held until the assertion can no longer pass the exp check, tolerance included.
      const recorded = await replayCache.add(replayKey(clientId, jti), (exp + clockTolerance) * 1000, { clientId });
      if (recorded === "over_budget") {
        throw new AssertionError(
          "too_many_assertions",
          "this client holds its share of unexpired client assertions; retry when one has expired (an assertion lives at most maxLifetimeSeconds)",
        );
      }
      if (recorded === "full") {
        throw new AssertionError("too_many_assertions", "the replay cache is full of unexpired client assertions; retry when one has expired");
      }
      if (recorded !== true) throw new AssertionError("replayed", "this client assertion (its jti) was already used");
      return { clientId, jti, expiresAt: new Date(exp * 1000) };
    },
  };
}

/**
 * The client id an assertion claims to come from, read WITHOUT verifying
 * anything, so the caller can look up the client (and its keys) before
 * calling {@link AssertionVerifier.verify}. Returns the `iss` when it is a
 * non-empty string equal to `sub`, otherwise `null`; never throws.
 *
 * @example
 * ```ts
 * declare const form: URLSearchParams; // the token request's body
 * const clientId = peekClientId(form.get("client_assertion")); // "s6BhdRkqt3" or null
 * ```
 */
export function peekClientId(assertion: unknown): string | null {
  if (typeof assertion !== "string" || assertion.length > MAX_ASSERTION_LENGTH) return null;
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(assertion);
  } catch {
    return null;
  }
  const { iss, sub } = claims;
  return typeof iss === "string" && iss !== "" && sub === iss ? iss : null;
}

/**
 * The client id a decoded assertion claims to come from, unverified: what
 * {@link peekClientId} answers for its text, read from the decoding when
 * there is one.
 *
 * @example
 * ```ts
 * declare const assertion: string;
 * claimedClientId(createDecodedAssertionVerifier().decode(assertion)); // "s6BhdRkqt3" or null
 * ```
 */
export function claimedClientId(decoded: DecodedAssertion): string | null {
  // Not decoded (a refused header, say): the claims as jose's decoder reads them, which forgives more.
  if (decoded.unverifiedClaims === null) return peekClientId(decoded.assertion);
  const { iss, sub } = decoded.unverifiedClaims;
  return typeof iss === "string" && iss !== "" && sub === iss ? iss : null;
}

function checkAlgorithms(algorithms: readonly string[] | undefined): ReadonlySet<string> {
  if (algorithms === undefined) return new Set(ASSERTION_ALGORITHMS);
  const known: readonly string[] = ASSERTION_ALGORITHMS;
  const unknown = algorithms.filter((alg) => !known.includes(alg));
  if (algorithms.length === 0 || unknown.length > 0) {
    throw new TypeError(
      `algorithms must be a non-empty subset of ${ASSERTION_ALGORITHMS.join(", ")}` +
        (unknown.length > 0 ? ` (not accepted: ${unknown.join(", ")})` : ""),
    );
  }
  return new Set(algorithms);
}

function checkAudience(audience: string | readonly string[]): string[] {
  const list = typeof audience === "string" ? [audience] : Array.isArray(audience) ? [...audience] : [];
  if (list.length === 0 || list.some((value) => typeof value !== "string" || value === "")) {
    throw new TypeError("audience must be a non-empty string or a non-empty list of non-empty strings");
  }
  return list;
}

function decodeAssertion(assertion: unknown, readHeader: (part: string) => JWSHeaderParameters): DecodedAssertion {
  const text = typeof assertion === "string" ? assertion : "";
  let parts: string[];
  let header: JWSHeaderParameters;
  try {
    parts = splitAssertion(assertion);
    header = readHeader(parts[0]!);
    checkSignatureLength(header.alg!, parts[2]!);
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    return { assertion: text, header: error, unverifiedClaims: null };
  }
  let claims: unknown = null;
  try {
    claims = decodeJsonPart(parts[1]!);
  } catch {
    // Not JSON (or not UTF-8): refused as malformed once the signature is checked, as jose's jwtVerify orders it.
  }
  return { assertion: text, header, unverifiedClaims: isJsonObject(claims) ? claims : null };
}

/** The three parts of a compact JWS, each checked to be canonical base64url; throws `malformed` otherwise. */
function splitAssertion(assertion: unknown): string[] {
  if (typeof assertion !== "string" || assertion === "") {
    throw new AssertionError("malformed", "the client assertion must be a non-empty string");
  }
  if (assertion.length > MAX_ASSERTION_LENGTH) {
    throw new AssertionError("malformed", `the client assertion is longer than ${MAX_ASSERTION_LENGTH} characters`);
  }
  const parts = assertion.split(".");
  if (parts.length !== 3) {
    throw new AssertionError("malformed", "the client assertion is not a JWT in JWS compact serialization");
  }
  // One spelling per assertion: jose's decoder skips padding and stray
  // characters, so without this check one signed assertion would have many
  // texts, defeating anything keyed on the text (logs, caches, rate limits).
  const names = ["header", "payload", "signature"];
  for (const [index, part] of parts.entries()) {
    if (canonicalBase64UrlLength(part) === null) {
      throw new AssertionError("malformed", `the client assertion's ${names[index]} is not canonical base64url (no padding, whitespace or other characters)`);
    }
  }
  return parts;
}

/** Headers kept read per verifier: see {@link createHeaderCache}. */
const HEADER_CACHE_ENTRIES = 64;
/** Longest header text kept read: a header of alg, kid and typ is well under it. */
const MAX_CACHED_HEADER_LENGTH = 512;

/**
 * {@link readAllowedHeader} with the headers it accepted kept by their
 * text: a client's assertions repeat one header, so it is decoded and
 * checked once. Only accepted headers are kept, frozen, at most
 * `maxEntries` (the oldest leave first).
 */
function createHeaderCache(algorithms: ReadonlySet<string>, maxEntries: number): (part: string) => JWSHeaderParameters {
  const headers = new Map<string, JWSHeaderParameters>();
  return (part) => {
    let header = headers.get(part);
    if (header !== undefined) return header;
    header = Object.freeze(readAllowedHeader(part, algorithms));
    if (part.length <= MAX_CACHED_HEADER_LENGTH) {
      if (headers.size >= maxEntries) headers.delete(headers.keys().next().value!);
      headers.set(part, header);
    }
    return header;
  };
}

function readAllowedHeader(part: string, algorithms: ReadonlySet<string>): JWSHeaderParameters {
  let header: unknown;
  try {
    header = decodeJsonPart(part);
  } catch (cause) {
    throw new AssertionError("malformed", "the client assertion's header is not valid base64url-encoded JSON", { cause });
  }
  if (!isJsonObject(header)) throw new AssertionError("malformed", "the client assertion's header is not valid base64url-encoded JSON");
  const { alg, typ } = header;
  if (header.crit !== undefined) {
    // No JWS extension is implemented here, so any critical one must be refused (RFC 7515 §4.1.11).
    const named = JSON.stringify(header.crit);
    throw new AssertionError(
      "malformed",
      `the client assertion's crit header ${named.length > 100 ? `${named.slice(0, 100)}…` : named} names extensions this server does not implement`,
    );
  }
  if (typ !== undefined && !isClientAssertionType(typ)) {
    throw new AssertionError(
      "malformed",
      `the client assertion's typ ${JSON.stringify(typ)} declares another kind of JWT; accepted: none, "JWT" or "client-authentication+jwt"`,
    );
  }
  if (typeof alg !== "string" || !algorithms.has(alg)) {
    throw new AssertionError(
      "algorithm",
      `the client assertion's alg ${JSON.stringify(alg) ?? "(missing)"} is not accepted; accepted: ${[...algorithms].join(", ")}`,
    );
  }
  // A JSON object whose alg, typ and crit were checked above.
  return header as JWSHeaderParameters;
}

/** Refuses a signature of a length the algorithm `alg` (an accepted one) cannot produce. */
function checkSignatureLength(alg: string, signature: string): void {
  const expected = SIGNATURE_BYTES[alg];
  const signatureBytes = canonicalBase64UrlLength(signature)!;
  if (signatureBytes === 0 || (expected !== undefined && signatureBytes !== expected)) {
    throw new AssertionError("malformed", `the client assertion's ${alg} signature is ${signatureBytes} bytes${expected === undefined ? "" : `; ${expected} expected`}`);
  }
}

/** What `atob` gives beyond ASCII: a byte of a multi-byte UTF-8 character. */
const NON_ASCII = /[\u0080-\u00ff]/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The JSON value of one canonical base64url part, read as jose reads it
 * (strict UTF-8, a byte order mark dropped, `JSON.parse`) but at a fraction
 * of the cost for the usual all-ASCII part: `atob` gives one character per
 * byte, which is the text itself when every byte is ASCII.
 */
function decodeJsonPart(part: string): unknown {
  const binary = atob(part.replaceAll("-", "+").replaceAll("_", "/"));
  return JSON.parse(!NON_ASCII.test(binary) ? binary : utf8.decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
}

/** A JSON object (what jose's decoders require of a header and a claims set), not an array or null. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * JWTs the client signs for other purposes with the same key (request
 * objects, DPoP proofs, logout tokens…) declare their own `typ` (RFC 8725
 * §3.11); refusing those keeps one of them from passing as an assertion.
 * Media type names compare case-insensitively, with or without the
 * `application/` prefix (RFC 7515 §4.1.9).
 */
function isClientAssertionType(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  const name = typ.toLowerCase().replace(/^application\//, "");
  return name === "jwt" || name === "client-authentication+jwt";
}

async function loadKeySet(loader: KeySetLoader, refresh: boolean): Promise<unknown> {
  try {
    return await loader({ refresh });
  } catch (cause) {
    if (cause instanceof AssertionError) throw cause;
    throw new AssertionError("key_set", "the client's key set could not be loaded", { cause });
  }
}

/**
 * Whether two JSON values are equal, looking at most `depth` levels deep
 * (deeper: "not known equal"). Cheaper than serializing both: a refreshed
 * key set is usually a copy of the cached one.
 */
function sameJson(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || depth === 0) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i], depth - 1));
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth - 1));
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;
type VerificationKey = Awaited<ReturnType<LocalKeySet>>;

/**
 * A key set imported once: jose's key selection over it, and the key that
 * selection gave for each (`alg`, `kid`) that fits exactly one key, so a
 * client's next assertion skips the search. Only pairs that matched are
 * kept: a `kid` of the set (or none) with an accepted `alg`, a few per set
 * whatever the kids assertions name.
 */
interface ImportedKeySet {
  readonly select: LocalKeySet;
  readonly picked: Map<string, VerificationKey>;
}

/** Key sets kept imported per verifier: see {@link createKeySetCache}. */
const KEY_SET_CACHE_ENTRIES = 256;

/**
 * Importing a public key costs more than verifying a signature with it, and
 * a stored client's key set arrives as a new object on every read; keying
 * jose's imported key sets by their JSON text lets the same keys be
 * checked ({@link publicKeySet}) and imported once, and makes the same set
 * give the same object. Least recently used sets leave first.
 *
 * A set that is deeply frozen data (the memory store hands out its records
 * frozen) cannot change while it is the same object, so it is also found
 * by identity, without writing its text again; a set read afresh (a SQL
 * store's) is always found by its text. Each map holds at most
 * `maxEntries` sets.
 */
function createKeySetCache(maxEntries: number): (keySet: unknown) => ImportedKeySet {
  const cache = new Map<string, ImportedKeySet>();
  const byIdentity = new Map<object, ImportedKeySet>();
  return (keySet) => {
    const known = typeof keySet === "object" && keySet !== null ? byIdentity.get(keySet) : undefined;
    if (known !== undefined) return known;
    const imported = importByText(keySet);
    if (typeof keySet === "object" && keySet !== null && isFrozenData(keySet, KEY_SET_DEPTH)) {
      if (byIdentity.size >= maxEntries) byIdentity.delete(byIdentity.keys().next().value!);
      byIdentity.set(keySet, imported);
    }
    return imported;
  };

  function importByText(keySet: unknown): ImportedKeySet {
    let text: string;
    try {
      text = JSON.stringify(keySet);
    } catch (cause) {
      throw new AssertionError("key_set", "the client's key set is not JSON", { cause });
    }
    let imported = cache.get(text);
    if (imported !== undefined) {
      cache.delete(text);
    } else {
      // Checked once per distinct set, not on every assertion: the key
      // rules read every number of every key.
      const checked = publicKeySet(keySet);
      try {
        imported = { select: createLocalJWKSet(checked), picked: new Map() };
      } catch (cause) {
        throw new AssertionError("key_set", "the client's key set is not a valid JSON Web Key Set", { cause });
      }
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    }
    cache.set(text, imported);
    return imported;
  }
}

/** Deepest nesting of a key set (set, keys, key, x5c) checked for frozenness, with a margin. */
const KEY_SET_DEPTH = 8;

/**
 * Whether `value` is frozen all the way down with data properties only (no
 * getters), so nothing can ever change what it holds: a proxy over it must
 * report the frozen values too.
 */
function isFrozenData(value: unknown, depth: number): boolean {
  if (typeof value === "function") return false;
  if (typeof value !== "object" || value === null) return true;
  if (depth === 0 || !Object.isFrozen(value)) return false;
  for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(value))) {
    if (!("value" in descriptor) || !isFrozenData(descriptor.value, depth - 1)) return false;
  }
  return true;
}

async function verifyWithKeySet(
  assertion: string,
  header: JWSHeaderParameters,
  keys: ImportedKeySet,
  options: VerifyOptions,
): Promise<void> {
  // The keys are picked from the header read already, rather than through
  // compactVerify's key callback, so that several fitting keys do not cost one
  // more parse of the assertion. jose's selection reads only alg and kid.
  const { alg, kid } = header;
  // alg is an accepted one, without spaces, so an absent kid and an empty one differ.
  const pick = typeof alg !== "string" ? undefined : kid === undefined ? alg : typeof kid === "string" ? `${alg} ${kid}` : undefined;
  const picked = pick === undefined ? undefined : keys.picked.get(pick);
  let candidates: Iterable<VerificationKey> | AsyncIterable<VerificationKey>;
  try {
    if (picked !== undefined) candidates = [picked];
    else {
      const key = await keys.select(header);
      if (pick !== undefined) keys.picked.set(pick, key);
      candidates = [key];
    }
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) {
      throw new AssertionError("key_not_found", `the client's key set has no ${header.alg} key${header.kid === undefined ? "" : ` with kid ${JSON.stringify(header.kid)}`}`);
    }
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) {
      throw new AssertionError("key_set", "a key of the client's key set could not be used", { cause: error });
    }
    // Several keys fit (no kid: kids are unique per key type): the
    // signature decides which, among the first few only.
    candidates = error;
  }
  if (Array.isArray(candidates)) {
    try {
      await compactVerify(assertion, candidates[0]!, options);
      return;
    } catch (attempt) {
      // One key: its error says it all.
      throw toAssertionError(attempt);
    }
  }
  let tried = 0;
  for await (const key of candidates) {
    try {
      await compactVerify(assertion, key, options);
      return;
    } catch (attempt) {
      // One key: its error says it all. Several: only a wrong signature moves on to the next.
      if (!(attempt instanceof errors.JWSSignatureVerificationFailed) || Array.isArray(candidates)) throw toAssertionError(attempt);
    }
    if (++tried >= MAX_KEYS_TRIED) {
      throw new AssertionError(
        "signature",
        `none of the first ${MAX_KEYS_TRIED} keys of the client's key set that fit the assertion verifies its signature; name the key with kid`,
      );
    }
  }
  throw new AssertionError("signature", "no key of the client's key set verifies the client assertion's signature");
}

function toAssertionError(error: unknown): AssertionError {
  if (error instanceof AssertionError) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AssertionError("signature", "the client assertion's signature does not verify with the client's key", { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AssertionError("algorithm", "the client assertion's alg is not accepted", { cause: error });
  }
  if (error instanceof errors.JWTExpired) {
    return new AssertionError("expired", "the client assertion has expired (exp is in the past)", { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = error;
    if (reason === "invalid") {
      return new AssertionError("malformed", `the client assertion's ${claim} claim must be a NumericDate`, { cause: error });
    }
    if (claim === "aud") {
      return new AssertionError("audience", "the client assertion's aud does not name this server", { cause: error });
    }
    if (claim === "nbf") {
      return new AssertionError("not_yet_valid", "the client assertion is not valid yet (nbf is in the future)", { cause: error });
    }
    if (claim === "exp") {
      return new AssertionError("lifetime", "the client assertion has no exp claim; an assertion must expire", { cause: error });
    }
    return new AssertionError("malformed", `the client assertion's ${claim} claim is not acceptable`, { cause: error });
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new AssertionError("malformed", "the client assertion is not a valid signed JWT", { cause: error });
  }
  // What is left comes from preparing the key for the algorithm: a key type
  // or size the algorithm refuses (e.g. an RSA modulus under 2048 bits).
  return new AssertionError("key_set", "the client's key cannot verify this client assertion", { cause: error });
}

interface ClaimRules {
  nowSeconds: number;
  clockTolerance: number;
  maxLifetime: number;
  expectedClientId: string | undefined;
  singleAudience: boolean;
  audiences: readonly string[];
}

/**
 * What jose's `jwtVerify` checks of the claims with the options this
 * verifier would give it (`exp` required, `aud` among the accepted
 * audiences, the clock tolerance), in its order: `aud` then `exp` present,
 * `aud` accepted, `iat`, `nbf` and `exp` NumericDates, `nbf` reached, `exp`
 * not passed. Returns `exp`.
 */
function checkRegisteredClaims(claims: Readonly<Record<string, unknown>>, { nowSeconds, clockTolerance, audiences }: ClaimRules): number {
  const { aud } = claims;
  if (!Object.hasOwn(claims, "aud")) throw new AssertionError("audience", "the client assertion's aud does not name this server");
  if (!Object.hasOwn(claims, "exp")) throw new AssertionError("lifetime", "the client assertion has no exp claim; an assertion must expire");
  if (!(typeof aud === "string" ? audiences.includes(aud) : Array.isArray(aud) && audiences.some((allowed) => aud.includes(allowed)))) {
    throw new AssertionError("audience", "the client assertion's aud does not name this server");
  }
  numericDate(claims, "iat");
  const nbf = numericDate(claims, "nbf");
  if (nbf !== undefined && nbf > nowSeconds + clockTolerance) {
    throw new AssertionError("not_yet_valid", "the client assertion is not valid yet (nbf is in the future)");
  }
  const exp = numericDate(claims, "exp")!;
  if (exp <= nowSeconds - clockTolerance) throw new AssertionError("expired", "the client assertion has expired (exp is in the past)");
  return exp;
}

function numericDate(claims: Readonly<Record<string, unknown>>, claim: "iat" | "nbf" | "exp"): number | undefined {
  const value = claims[claim];
  if (value !== undefined && typeof value !== "number") {
    throw new AssertionError("malformed", `the client assertion's ${claim} claim must be a NumericDate`);
  }
  return value;
}

function checkClaims(claims: Readonly<Record<string, unknown>>, rules: ClaimRules): { clientId: string; jti: string; exp: number } {
  const exp = checkRegisteredClaims(claims, rules);
  const { iss, sub, iat, jti, aud } = claims;
  if (rules.singleAudience && typeof aud !== "string" && !(Array.isArray(aud) && aud.length === 1)) {
    throw new AssertionError("audience", "the client assertion's aud must name this server alone");
  }
  if (typeof iss !== "string" || iss === "" || sub !== iss) {
    throw new AssertionError("issuer_subject", "the client assertion's iss and sub must both be the client id");
  }
  if (rules.expectedClientId !== undefined && iss !== rules.expectedClientId) {
    throw new AssertionError("issuer_subject", "the client assertion's iss and sub are not the client id of this request");
  }
  if (iat !== undefined && typeof iat !== "number") {
    throw new AssertionError("malformed", "the client assertion's iat claim must be a NumericDate");
  }
  if (iat !== undefined && iat > rules.nowSeconds + rules.clockTolerance) {
    throw new AssertionError("not_yet_valid", "the client assertion was issued in the future (iat)");
  }
  // Without iat the lifetime is measured from our clock, so the client's
  // clock may be ahead by the tolerance; with iat both ends are the client's.
  const lifetime = exp - (iat ?? rules.nowSeconds);
  const allowed = rules.maxLifetime + (iat === undefined ? rules.clockTolerance : 0);
  if (!(lifetime <= allowed)) {
    throw new AssertionError("lifetime", `the client assertion is valid for ${lifetime} s; at most ${rules.maxLifetime} s are accepted`);
  }
  if (jti === undefined || jti === "") {
    throw new AssertionError("missing_jti", "the client assertion has no jti, so its single use cannot be enforced");
  }
  if (typeof jti !== "string") {
    throw new AssertionError("malformed", "the client assertion's jti claim must be a string");
  }
  return { clientId: iss, jti, exp };
}

/**
 * Fixed-length key per (client, jti): one client cannot collide with or
 * burn another's jti, and a long jti costs the cache no more memory.
 */
function replayKey(clientId: string, jti: string): string {
  // The platform's SHA-256 (native where there is one): the same hex digest on every runtime, so processes of any kind share the store's records.
  return platformCrypto.sha256Hex(JSON.stringify([clientId, jti]));
}
