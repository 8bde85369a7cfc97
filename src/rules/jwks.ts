/**
 * Rules of a client's public keys for private_key_jwt (RFC 7523): `jwks`,
 * a JWK Set held in the record, or `jwks_uri`, where the client publishes
 * it. Only public keys are accepted: a private or symmetric key sent here
 * would be a secret stored in the clear and shown on every read.
 */
import * as z from "zod";
import { pointer, type ValidationIssue } from "../model/errors.js";
import { checkWebPageUrl, type UriLimits } from "./uris.js";

/**
 * Most keys a key set may hold: a client's stored `jwks`, a fetched
 * `jwks_uri` set, or a set handed to the verifier. A handful covers a key
 * in use, the next one and an encryption key; more only costs memory.
 */
export const MAX_JWKS_KEYS = 10;
/** Largest `jwks`, as JSON text, in bytes. */
export const MAX_JWKS_BYTES = 16 * 1024;
/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3 and §3.5 require 2048). */
export const MIN_RSA_MODULUS_BITS = 2048;
/**
 * Largest RSA modulus accepted, in bits. Verifying costs about the square
 * of the size: 4096 bits cost ~3× 2048 bits, 8192 bits ~12×, which would
 * let a forger make each try far dearer than a valid assertion.
 */
export const MAX_RSA_MODULUS_BITS = 4096;
/**
 * Largest RSA public exponent accepted. Verifying costs one modular
 * multiplication per bit of the exponent (and one more per set bit):
 * 65537 (17 bits) is what every RSA key generator uses; an exponent near
 * 2³² costs 3.5× as much per try with a 4096-bit modulus.
 */
export const MAX_RSA_PUBLIC_EXPONENT = 65_537;

/**
 * The signature algorithms a key may name in its `alg` member, and the key
 * type (and curve) each needs: those of the assertion verifier. An `alg`
 * outside this table, or one that does not fit its key, is refused, so a
 * key that can never verify an assertion is not kept.
 */
export const JWK_SIGNATURE_ALGORITHMS: Readonly<Record<string, { readonly kty: string; readonly crv?: string }>> = Object.freeze({
  RS256: { kty: "RSA" },
  RS384: { kty: "RSA" },
  RS512: { kty: "RSA" },
  PS256: { kty: "RSA" },
  PS384: { kty: "RSA" },
  PS512: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256" },
  ES384: { kty: "EC", crv: "P-384" },
  ES512: { kty: "EC", crv: "P-521" },
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  Ed25519: { kty: "OKP", crv: "Ed25519" },
});

/** Curves accepted per key type, with the length in bytes of each coordinate. */
const CURVES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  EC: { "P-256": 32, "P-384": 48, "P-521": 66 },
  OKP: { Ed25519: 32 },
};

/**
 * Members that only private or symmetric keys carry (RFC 7518 §6.2.2,
 * §6.3.2, §6.4.1; RFC 8037 §2 `d`; the AKP key type's `priv`). One list for
 * every place keys are accepted: stored `jwks`, fetched `jwks_uri` sets and
 * the key sets assertions are verified with.
 */
export const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"] as const;

/**
 * The private or symmetric key members `key` carries, in list order; empty
 * for a public key.
 *
 * @example
 * ```ts
 * privateJwkMembers({ kty: "EC", crv: "P-256", x: "…", y: "…", d: "…" }); // ["d"]
 * ```
 */
export function privateJwkMembers(key: object): string[] {
  return PRIVATE_JWK_MEMBERS.filter((member) => Object.hasOwn(key, member));
}

/** Value of each base64url character by char code (-1: not in the alphabet). */
const BASE64URL_VALUES: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"].entries()) table[c.charCodeAt(0)] = i;
  return table;
})();

/**
 * The bytes `text` encodes in canonical unpadded base64url (RFC 7515 §2,
 * RFC 4648 §5), or null: no padding, whitespace or characters outside the
 * alphabet, no length that leaves a lone character, and zero trailing bits,
 * so each byte string has exactly one accepted spelling.
 *
 * @example
 * ```ts
 * canonicalBase64UrlBytes("AQAB"); // Uint8Array [1, 0, 1]
 * canonicalBase64UrlBytes("AQAB="); // null (padding)
 * canonicalBase64UrlBytes("AR");    // null (non-zero trailing bits: "AQ" is the spelling)
 * ```
 */
export function canonicalBase64UrlBytes(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? BASE64URL_VALUES[code]! : -1;
    if (value < 0) return null;
    buffer = ((buffer << 6) | value) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits (2 or 4) must be zero: otherwise another text spells the same bytes.
  if ((buffer & ((1 << bits) - 1)) !== 0) return null;
  return bytes;
}

const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/**
 * The number of bytes `text` encodes in canonical unpadded base64url, or
 * null when it is not canonical (see {@link canonicalBase64UrlBytes}),
 * without decoding it: a whole assertion or RSA modulus is checked with
 * one regular expression and a look at its last character.
 *
 * @example
 * ```ts
 * canonicalBase64UrlLength("AQAB"); // 3
 * canonicalBase64UrlLength("AQ=="); // null
 * ```
 */
export function canonicalBase64UrlLength(text: string): number | null {
  const rest = text.length % 4;
  if (rest === 1 || !BASE64URL_TEXT.test(text)) return null;
  if (rest !== 0) {
    // The last character carries 4 (after 2 characters) or 2 (after 3) bits that must be zero.
    const last = BASE64URL_VALUES[text.charCodeAt(text.length - 1)]!;
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return null;
  }
  return Math.floor((text.length * 3) / 4);
}

/** One problem of one key: the member it concerns (undefined: the key as a whole) and a phrase. */
export interface JwkProblem {
  member?: string;
  message: string;
}

/**
 * What keeps `key` out of a key set, in a fixed order (empty: none): it
 * must be a public signature key the verifier can use, of bounded cost —
 * `kty` RSA (modulus of {@link MIN_RSA_MODULUS_BITS} to
 * {@link MAX_RSA_MODULUS_BITS} bits, odd public exponent from 3 to
 * {@link MAX_RSA_PUBLIC_EXPONENT}), EC on P-256, P-384 or P-521, or OKP on
 * Ed25519, with every number in canonical base64url, coordinates of the
 * curve's length, no private members, and an `alg` (if any) among
 * {@link JWK_SIGNATURE_ALGORITHMS} that fits the key.
 *
 * @example
 * ```ts
 * const n = `w${"A".repeat(170)}`; // a 1024-bit modulus
 * publicJwkProblems({ kty: "RSA", n, e: "AQAB" }); // [{ member: "n", message: "is a 1024-bit RSA modulus; 2048 to 4096 bits are accepted" }]
 * ```
 */
export function publicJwkProblems(key: Record<string, unknown>): JwkProblem[] {
  const { kty } = key;
  if (typeof kty !== "string" || kty === "") return [{ member: "kty", message: "must be a non-empty string" }];
  const problems: JwkProblem[] = [];
  if (kty === "oct") problems.push({ member: "kty", message: 'is "oct": symmetric keys are not accepted, publish public keys only' });
  const secret = privateJwkMembers(key);
  if (secret.length > 0) {
    problems.push({ message: `must be a public key: remove the private member${secret.length > 1 ? "s" : ""} ${secret.join(", ")}` });
  }
  if (kty === "RSA") problems.push(...rsaProblems(key));
  else if (kty === "EC" || kty === "OKP") problems.push(...curveProblems(key, kty));
  else {
    if (kty !== "oct") problems.push({ member: "kty", message: `${JSON.stringify(kty)} is not accepted; accepted: RSA, EC, OKP` });
    // The members of an unknown type mean nothing here: one issue says enough.
    return problems;
  }
  const { alg, kid } = key;
  if (alg !== undefined) {
    const fit = typeof alg === "string" && Object.hasOwn(JWK_SIGNATURE_ALGORITHMS, alg) ? JWK_SIGNATURE_ALGORITHMS[alg]! : undefined;
    if (fit === undefined) {
      problems.push({ member: "alg", message: `${JSON.stringify(alg)} is not accepted; accepted: ${Object.keys(JWK_SIGNATURE_ALGORITHMS).join(", ")}` });
    } else if (fit.kty !== kty || (fit.crv !== undefined && key.crv !== fit.crv)) {
      problems.push({ member: "alg", message: `${alg} needs a${fit.kty === "EC" ? "n" : ""} ${fit.kty} key${fit.crv === undefined ? "" : ` on ${fit.crv}`}` });
    }
  }
  if (kid !== undefined && typeof kid !== "string") problems.push({ member: "kid", message: "must be a string" });
  return problems;
}

function rsaProblems(key: Record<string, unknown>): JwkProblem[] {
  const problems: JwkProblem[] = [];
  const nText = typeof key.n === "string" ? key.n : "";
  const nBytes = canonicalBase64UrlLength(nText);
  if (nBytes === null || nBytes === 0) problems.push({ member: "n", message: "must be the modulus in canonical base64url (no padding)" });
  else {
    // Only the first and last bytes matter: decode the first group of 4
    // characters (the whole text when shorter) and the last group, not ~680.
    const first = canonicalBase64UrlBytes(nText.slice(0, 4))![0]!;
    const last = canonicalBase64UrlBytes(nText.slice(nText.length - (nText.length % 4 || 4)))!.at(-1)!;
    const bits = (nBytes - 1) * 8 + (32 - Math.clz32(first));
    if (first === 0) problems.push({ member: "n", message: "must not start with a zero byte (RFC 7518 §6.3.1.1)" });
    else if (bits < MIN_RSA_MODULUS_BITS || bits > MAX_RSA_MODULUS_BITS) {
      problems.push({ member: "n", message: `is a ${bits}-bit RSA modulus; ${MIN_RSA_MODULUS_BITS} to ${MAX_RSA_MODULUS_BITS} bits are accepted` });
    } else if ((last & 1) === 0) problems.push({ member: "n", message: "is even, so it is not an RSA modulus" });
  }
  const eText = typeof key.e === "string" ? key.e : "";
  const eBytes = canonicalBase64UrlLength(eText);
  // Decoded only when short enough to be accepted.
  const e = eBytes !== null && eBytes <= 4 ? canonicalBase64UrlBytes(eText) : null;
  if (eBytes === null || eBytes === 0) problems.push({ member: "e", message: "must be the public exponent in canonical base64url (no padding)" });
  else if (e === null || e[0] === 0) problems.push({ member: "e", message: `must be an odd number from 3 to ${MAX_RSA_PUBLIC_EXPONENT} (usually "AQAB", 65537)` });
  else {
    const value = e.reduce((v, byte) => v * 256 + byte, 0);
    if (value < 3 || value > MAX_RSA_PUBLIC_EXPONENT || value % 2 === 0) {
      problems.push({ member: "e", message: `is ${value}; must be an odd number from 3 to ${MAX_RSA_PUBLIC_EXPONENT} (usually "AQAB", 65537)` });
    }
  }
  return problems;
}

function curveProblems(key: Record<string, unknown>, kty: "EC" | "OKP"): JwkProblem[] {
  const curves = CURVES[kty]!;
  const { crv } = key;
  const length = typeof crv === "string" && Object.hasOwn(curves, crv) ? curves[crv]! : undefined;
  if (length === undefined) {
    return [{ member: "crv", message: `${JSON.stringify(crv) ?? "(missing)"} is not accepted for ${kty} keys; accepted: ${Object.keys(curves).join(", ")}` }];
  }
  const problems: JwkProblem[] = [];
  for (const member of kty === "EC" ? ["x", "y"] : ["x"]) {
    const value = key[member];
    const bytes = typeof value === "string" ? canonicalBase64UrlLength(value) : null;
    if (bytes !== length) {
      problems.push({ member, message: `must be the ${length}-byte ${crv} coordinate in canonical base64url (no padding)` });
    }
  }
  if (kty === "OKP" && key.y !== undefined) problems.push({ member: "y", message: "is not a member of OKP keys" });
  return problems;
}

/**
 * Problems of the key set as a whole: a `kid` shared by two keys of one
 * type would make the verifier try both for one assertion.
 */
function duplicateKidProblems(keys: readonly Record<string, unknown>[]): { index: number; message: string }[] {
  const seen = new Map<string, number>();
  const problems: { index: number; message: string }[] = [];
  for (const [index, key] of keys.entries()) {
    if (typeof key.kid !== "string" || typeof key.kty !== "string") continue;
    const name = JSON.stringify([key.kty, key.kid]);
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else problems.push({ index, message: `has the kid ${JSON.stringify(key.kid)} of key ${first}; kids must be unique among keys of one type` });
  }
  return problems;
}

/**
 * What is wrong with `value` as a set of public keys (RFC 7517 §5), as a
 * phrase to follow "the key set", or null: an object with a `keys` array
 * of at most `maxKeys` keys (default {@link MAX_JWKS_KEYS}), each passing
 * {@link publicJwkProblems}, with unique kids per key type. Fetched
 * `jwks_uri` sets and the sets assertions are verified with both go
 * through it; stored `jwks` go through the same key rules in
 * {@link jwksIssues}.
 *
 * @example
 * ```ts
 * publicKeySetProblem({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }); // 'has a symmetric key 0 (kty "oct"); only public keys are accepted'
 * publicKeySetProblem({ keys: [{ kty: "EC", crv: "secp256k1", x: "…", y: "…" }] }); // 'has a key 0 whose crv "secp256k1" is not accepted for EC keys; accepted: P-256, P-384, P-521'
 * ```
 */
export function publicKeySetProblem(value: unknown, maxKeys = MAX_JWKS_KEYS): string | null {
  if (!isPlainObject(value) || !Array.isArray(value.keys)) return "is not a JSON Web Key Set (an object with a keys array)";
  const keys: unknown[] = value.keys;
  if (keys.length > maxKeys) return `holds ${keys.length} keys; at most ${maxKeys} are accepted`;
  for (const [index, key] of keys.entries()) {
    if (!isPlainObject(key) || typeof key.kty !== "string") return `has a key ${index} that is not a JWK with a string kty`;
    if (key.kty === "oct") return `has a symmetric key ${index} (kty "oct"); only public keys are accepted`;
    const secret = privateJwkMembers(key)[0];
    if (secret !== undefined) return `holds private key material ("${secret}") in key ${index}; only public keys are accepted`;
    const problem = publicJwkProblems(key)[0];
    if (problem !== undefined) return `has a key ${index} ${problem.member === undefined ? "that" : `whose ${problem.member}`} ${problem.message}`;
  }
  const duplicate = duplicateKidProblems(keys as Record<string, unknown>[])[0];
  if (duplicate !== undefined) return `has a key ${duplicate.index} that ${duplicate.message}`;
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One public JWK as stored: `kty` plus whatever members its type defines. */
export const publicJwkSchema = z.looseObject({ kty: z.string().min(1) });
/** A JWK Set as stored and read: `{ keys: [...] }`, each key an object with a string `kty`. */
export const jwksSchema = z
  .strictObject({ keys: z.array(z.record(z.string(), z.unknown()).describe("A public JWK (RFC 7517): a string kty and the members of its type.")) })
  .describe("JWK Set of the client's public keys (private_key_jwt).");
export type JsonWebKeySet = z.infer<typeof jwksSchema>;

/**
 * Input schema of `jwks`: the shape, with the key count bounded. Typed as
 * key objects (what a caller sends); the parsed keys do have a string `kty`.
 *
 * @example
 * ```ts
 * jwksInputSchema().safeParse({ keys: [] }).success; // false: at least one key
 * ```
 */
export function jwksInputSchema(): z.ZodType<{ keys: Record<string, unknown>[] }> {
  return z
    .strictObject({
      keys: z
        .array(publicJwkSchema)
        .min(1, "must contain at least one key")
        .max(MAX_JWKS_KEYS, `must contain at most ${MAX_JWKS_KEYS} keys`),
    })
    .describe(
      `JWK Set of the client's public keys for private_key_jwt: 1 to ${MAX_JWKS_KEYS} keys, at most ${MAX_JWKS_BYTES} bytes of JSON; ` +
        `RSA (${MIN_RSA_MODULUS_BITS}-${MAX_RSA_MODULUS_BITS} bits, odd exponent up to ${MAX_RSA_PUBLIC_EXPONENT}), EC (P-256, P-384, P-521) or OKP (Ed25519) keys, kids unique per type; ` +
        `private members (${PRIVATE_JWK_MEMBERS.join(", ")}) and symmetric (oct) keys are refused. Excludes jwks_uri. null clears it.`,
    );
}

/**
 * The problems of a JWK Set that passed the shape check, every one of
 * them: each key as {@link publicJwkProblems} states it (private or
 * symmetric material, unsupported type or curve, RSA size and exponent,
 * non-canonical numbers, `alg`), kids unique per key type, and the size
 * bound.
 *
 * @example
 * ```ts
 * jwksIssues({ keys: [{ kty: "oct", k: "c2VjcmV0" }] });
 * // [{ path: "/jwks/keys/0/kty", message: 'is "oct": …' }, { path: "/jwks/keys/0", message: "must be a public key: remove the private member k" }]
 * ```
 */
export function jwksIssues(jwks: { keys: readonly Record<string, unknown>[] }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [index, key] of jwks.keys.entries()) {
    for (const { member, message } of publicJwkProblems(key)) {
      issues.push({ path: member === undefined ? pointer("jwks", "keys", index) : pointer("jwks", "keys", index, member), message });
    }
  }
  for (const { index, message } of duplicateKidProblems(jwks.keys)) {
    issues.push({ path: pointer("jwks", "keys", index, "kid"), message: message.replace(/^has the kid \S+ of/, "is also the kid of") });
  }
  let bytes: number;
  try {
    bytes = new TextEncoder().encode(JSON.stringify(jwks)).length;
  } catch {
    // Only nesting too deep to serialize gets here: far over any size bound.
    bytes = Number.POSITIVE_INFINITY;
  }
  if (bytes > MAX_JWKS_BYTES) {
    issues.push({ path: "/jwks", message: `must be at most ${MAX_JWKS_BYTES} bytes of JSON${Number.isFinite(bytes) ? ` (is ${bytes})` : ""}` });
  }
  return issues;
}

/**
 * Checks a `jwks_uri`: an https URL (no http, not even on loopback: the
 * keys are fetched by the server), ASCII, no user information.
 *
 * @example
 * ```ts
 * checkJwksUri("https://app.example.com/jwks.json", { maxUriLength: 2048 }); // null
 * checkJwksUri("http://localhost/jwks.json", { maxUriLength: 2048 });        // "must use https"
 * ```
 */
export function checkJwksUri(raw: string, limits: UriLimits): string | null {
  const problem = checkWebPageUrl(raw, limits);
  if (problem !== null) return problem;
  if (!raw.toLowerCase().startsWith("https:")) return "must use https";
  if (raw.includes("#")) return "must not contain a fragment";
  return null;
}
