/**
 * Rules of a client's public keys for private_key_jwt (RFC 7523): `jwks`,
 * a JWK Set held in the record, or `jwks_uri`, where the client publishes
 * it. Only public keys are accepted: a private or symmetric key sent here
 * would be a secret stored in the clear and shown on every read.
 */
import { z } from "zod";
import { pointer, type ValidationIssue } from "../errors.js";
import { checkWebPageUrl, type UriLimits } from "./uris.js";

/** Most keys a client's `jwks` may hold. */
export const MAX_JWKS_KEYS = 10;
/** Largest `jwks`, as JSON text, in bytes. */
export const MAX_JWKS_BYTES = 16 * 1024;

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
 * privateJwkMembers({ kty: "EC", crv: "P-256", x: "…", y: "…", d: "…" }); // ["d"]
 */
export function privateJwkMembers(key: object): string[] {
  return PRIVATE_JWK_MEMBERS.filter((member) => Object.hasOwn(key, member));
}

/**
 * What is wrong with `value` as a set of public keys (RFC 7517 §5), as a
 * phrase to follow "the key set", or null: an object with a `keys` array
 * (at most `maxKeys`), each key an object with a string `kty`, not
 * symmetric, without private members. Fetched `jwks_uri` sets and the sets
 * assertions are verified with both go through it.
 *
 * @example
 * publicKeySetProblem({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }); // 'has a symmetric key 0 (kty "oct"); only public keys are accepted'
 */
export function publicKeySetProblem(value: unknown, maxKeys = Number.POSITIVE_INFINITY): string | null {
  if (!isPlainObject(value) || !Array.isArray(value.keys)) return "is not a JSON Web Key Set (an object with a keys array)";
  const keys: unknown[] = value.keys;
  if (keys.length > maxKeys) return `holds ${keys.length} keys; at most ${maxKeys} are accepted`;
  for (const [index, key] of keys.entries()) {
    if (!isPlainObject(key) || typeof key.kty !== "string") return `has a key ${index} that is not a JWK with a string kty`;
    if (key.kty === "oct") return `has a symmetric key ${index} (kty "oct"); only public keys are accepted`;
    const secret = privateJwkMembers(key)[0];
    if (secret !== undefined) return `holds private key material ("${secret}") in key ${index}; only public keys are accepted`;
  }
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
 * jwksInputSchema().safeParse({ keys: [] }).success; // false: at least one key
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
        `private members (${PRIVATE_JWK_MEMBERS.join(", ")}) and symmetric (oct) keys are refused. Excludes jwks_uri. null clears it.`,
    );
}

/**
 * The problems of a JWK Set that passed the shape check: private or
 * symmetric key material, and the size bound.
 *
 * @example
 * jwksIssues({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }); // two issues under /jwks/keys/0
 */
export function jwksIssues(jwks: { keys: readonly Record<string, unknown>[] }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [index, key] of jwks.keys.entries()) {
    if (key.kty === "oct") {
      issues.push({ path: pointer("jwks", "keys", index, "kty"), message: 'symmetric keys ("oct") are not accepted: publish public keys only' });
    }
    const present = privateJwkMembers(key);
    if (present.length > 0) {
      issues.push({
        path: pointer("jwks", "keys", index),
        message: `must be a public key: remove the private member${present.length > 1 ? "s" : ""} ${present.join(", ")}`,
      });
    }
  }
  const bytes = new TextEncoder().encode(JSON.stringify(jwks)).length;
  if (bytes > MAX_JWKS_BYTES) issues.push({ path: "/jwks", message: `must be at most ${MAX_JWKS_BYTES} bytes of JSON (is ${bytes})` });
  return issues;
}

/**
 * Checks a `jwks_uri`: an https URL (no http, not even on loopback: the
 * keys are fetched by the server), ASCII, no user information.
 *
 * @example
 * checkJwksUri("https://app.example.com/jwks.json", { maxUriLength: 2048 }); // null
 * checkJwksUri("http://localhost/jwks.json", { maxUriLength: 2048 });        // "must use https"
 */
export function checkJwksUri(raw: string, limits: UriLimits): string | null {
  const problem = checkWebPageUrl(raw, limits);
  if (problem !== null) return problem;
  if (!raw.toLowerCase().startsWith("https:")) return "must use https";
  if (raw.includes("#")) return "must not contain a fragment";
  return null;
}
