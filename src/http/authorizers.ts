/**
 * Ready-made `authorize` callbacks for {@link createFetchHandler}, for hosts
 * that have no identity system of their own to ask: one shared bearer token,
 * or a set of credentials (bearer tokens and Cloudflare-style API key + email
 * pairs), each hashed and limited to some accounts and to read or read/write.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { constantTimeEqual, defaultSecretHasher } from "../model/secrets.js";
import { ForbiddenError, UnauthorizedError } from "./errors.js";
import type { Authorize } from "./handler.js";
import type { Permission } from "./routes.js";

/** Longest token or API key hashed; longer values are refused unhashed (401). */
export const MAX_CREDENTIAL_SECRET_LENGTH = 1024;
/** Longest `X-Auth-Email` considered (RFC 5321 bounds a path at 256 octets). */
export const MAX_CREDENTIAL_EMAIL_LENGTH = 320;

/**
 * An `authorize` callback that accepts exactly one bearer token, for every
 * account and permission, and answers 401 to anything else (a header over
 * {@link MAX_CREDENTIAL_SECRET_LENGTH} is refused unhashed). The token is
 * compared as a hash in constant time (both sides hashed first, so lengths
 * never differ and timing tells nothing about the token).
 *
 * @example
 * ```ts
 * import { bearerTokenAuthorize, createFetchHandler } from "oauth-client-registry/http";
 *
 * const handler = createFetchHandler(registry, {
 *   authorize: bearerTokenAuthorize(process.env.OAUTH_REGISTRY_API_TOKEN!),
 * });
 * ```
 */
export function bearerTokenAuthorize(token: string): Authorize {
  if (typeof token !== "string" || token === "") {
    throw new TypeError("bearerTokenAuthorize: the token must be a non-empty string");
  }
  if (token.length > MAX_CREDENTIAL_SECRET_LENGTH) {
    throw new TypeError(`bearerTokenAuthorize: the token must be at most ${MAX_CREDENTIAL_SECRET_LENGTH} characters (longer ones are refused unhashed)`);
  }
  // Hashed once, with the hasher of client secrets; a request's token is hashed the same way.
  const expected = Promise.resolve(defaultSecretHasher.hash(token));
  return async (request) => {
    const header = request.headers.get("authorization") ?? "";
    // Bounded before any regular expression or hash runs.
    if (header.length > MAX_CREDENTIAL_SECRET_LENGTH + 16) throw new UnauthorizedError("a valid bearer token is required");
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    const valid = await defaultSecretHasher.verify(match?.[1] ?? "", await expected);
    if (!match || !valid) throw new UnauthorizedError("a valid bearer token is required");
    return true;
  };
}

/**
 * What a credential may do: `read` allows `account.oauth-client.list`,
 * `account.oauth-client.read` and `oauth-scope.list`; `read_write` allows
 * every permission (Cloudflare's "OAuth Clients Read" / "Write" split).
 */
export type CredentialAccess = "read" | "read_write";

/** Where and how a credential may act. */
export interface CredentialGrant {
  /** A label for people (messages, logs); never compared. */
  name?: string;
  /** The accounts it may act on, or `"*"` for every account. */
  accounts: "*" | readonly string[];
  access: CredentialAccess;
}

/**
 * One credential as {@link createCredentialsAuthorizer} holds it: the hash of
 * a bearer token (`tokenHash`), or an email with the hash of its API key
 * (`email` + `keyHash`, sent as `X-Auth-Email` + `X-Auth-Key`). Hashes are in
 * the `sha256$<64 hex>` form of {@link hashCredentialSecret}; the secrets
 * themselves are never held.
 */
export type ApiCredential = CredentialGrant &
  ({ tokenHash: string; email?: never; keyHash?: never } | { email: string; keyHash: string; tokenHash?: never });

/** A problem with one credential of a list; `index` is its position (from 0). */
export interface CredentialProblem {
  index: number;
  message: string;
}

const HASH_FORMAT = /^sha256\$[0-9a-f]{64}$/;
const READ_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  "account.oauth-client.list",
  "account.oauth-client.read",
  "oauth-scope.list",
]);

/**
 * The stored form of a token or API key for {@link ApiCredential}:
 * `sha256$<64 lowercase hex>`, the library's format for generated secrets.
 * A fast hash is right for random tokens of 128 bits or more (nothing to
 * brute-force), and lets each request be checked against every credential
 * with a single hash.
 *
 * @example
 * ```ts
 * hashCredentialSecret("test"); // "sha256$9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
 * ```
 */
export function hashCredentialSecret(secret: string): string {
  return `sha256$${bytesToHex(sha256(utf8ToBytes(secret)))}`;
}

const emailDigest = (email: string): Uint8Array => sha256(utf8ToBytes(email.toLowerCase()));

/**
 * Every problem of a credential list at once, each with its index; empty
 * when the list can be used. Hash values are never quoted in messages (an
 * operator may have pasted a secret where its hash belongs).
 *
 * @example
 * ```ts
 * validateCredentials([{ tokenHash: "oops", accounts: "*", access: "read" }]);
 * // [{ index: 0, message: "tokenHash must be sha256$ followed by 64 lowercase hex digits …" }]
 * ```
 */
export function validateCredentials(credentials: readonly ApiCredential[]): CredentialProblem[] {
  const problems: CredentialProblem[] = [];
  const seen = new Map<string, number>();
  credentials.forEach((credential, index) => {
    const problem = (message: string) => problems.push({ index, message });
    const hashProblem = (field: string) =>
      problem(`${field} must be sha256$ followed by 64 lowercase hex digits (the value is not shown; make it with hashCredentialSecret or \`oauth-client-registry hash-secret\`)`);
    let identity: string | null = null;
    if (typeof credential.tokenHash === "string") {
      if (credential.email !== undefined || credential.keyHash !== undefined) problem("has both tokenHash and email/keyHash; use one credential per entry");
      if (!HASH_FORMAT.test(credential.tokenHash)) hashProblem("tokenHash");
      else identity = `token ${credential.tokenHash}`;
    } else if (typeof credential.email === "string" && typeof credential.keyHash === "string") {
      const email = credential.email;
      if (email.trim() !== email || email === "" || email.length > MAX_CREDENTIAL_EMAIL_LENGTH || /[\s\p{Cc}]/u.test(email)) {
        problem(`email must be 1 to ${MAX_CREDENTIAL_EMAIL_LENGTH} characters without whitespace or control characters`);
      }
      if (!HASH_FORMAT.test(credential.keyHash)) hashProblem("keyHash");
      else identity = `key ${email.toLowerCase()} ${credential.keyHash}`;
    } else {
      problem("needs either tokenHash, or email and keyHash");
    }
    if (identity !== null) {
      const first = seen.get(identity);
      if (first === undefined) seen.set(identity, index);
      else problem(`is the same credential as entry ${first}; each credential may appear once`);
    }
    const accounts = credential.accounts;
    if (accounts !== "*") {
      if (!Array.isArray(accounts) || accounts.length === 0) problem('accounts must be "*" or a non-empty list of account ids');
      else if (accounts.some((account) => typeof account !== "string" || account === "" || account === "*")) {
        problem('accounts must list non-empty account ids; "*" (all accounts) stands alone, not in a list');
      }
    }
    if (credential.access !== "read" && credential.access !== "read_write") problem('access must be "read" or "read_write"');
  });
  return problems;
}

interface CompiledCredential {
  kind: "token" | "key";
  secret: Uint8Array;
  email: Uint8Array | null;
  accounts: ReadonlySet<string> | "*";
  access: CredentialAccess;
}

function compile(credentials: readonly ApiCredential[]): readonly CompiledCredential[] {
  const problems = validateCredentials(credentials);
  if (problems.length > 0) {
    throw new TypeError(`invalid credentials: ${problems.map((p) => `entry ${p.index} ${p.message}`).join("; ")}`);
  }
  return Object.freeze(
    credentials.map((credential): CompiledCredential => ({
      kind: credential.tokenHash !== undefined ? "token" : "key",
      secret: hexToBytes((credential.tokenHash ?? credential.keyHash!).slice("sha256$".length)),
      email: credential.email === undefined ? null : emailDigest(credential.email),
      accounts: credential.accounts === "*" ? "*" : new Set(credential.accounts),
      access: credential.access,
    })),
  );
}

/** The credential a request presents, or why it presents none usable. */
type Presented = { kind: "token"; secret: string } | { kind: "key"; secret: string; email: string } | { refused: string };

function presentedCredential(request: Request): Presented {
  const authorization = request.headers.get("authorization");
  const key = request.headers.get("x-auth-key");
  const email = request.headers.get("x-auth-email");
  if (authorization !== null && (key !== null || email !== null)) {
    return { refused: "send either Authorization: Bearer <token> or X-Auth-Key with X-Auth-Email, not both" };
  }
  if (authorization !== null) {
    // Bounded before any regular expression or hash runs.
    if (authorization.length > MAX_CREDENTIAL_SECRET_LENGTH + 16) return { refused: "a valid bearer token is required" };
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    return match ? { kind: "token", secret: match[1]! } : { refused: "a valid bearer token is required" };
  }
  if (key !== null || email !== null) {
    if (key === null || email === null || key === "" || email === "") return { refused: "X-Auth-Key and X-Auth-Email must be sent together" };
    if (key.length > MAX_CREDENTIAL_SECRET_LENGTH || email.length > MAX_CREDENTIAL_EMAIL_LENGTH) return { refused: "a valid API key and email are required" };
    return { kind: "key", secret: key, email };
  }
  return { refused: "credentials are required: Authorization: Bearer <token>, or X-Auth-Key with X-Auth-Email" };
}

/** An authorize callback over a credential set that can be replaced while serving. */
export interface CredentialsAuthorizer {
  /** Pass to `createFetchHandler({ authorize })`. */
  readonly authorize: Authorize;
  /**
   * Validates `credentials` and, only if every entry is valid, swaps them in
   * for every later request at once; otherwise throws a `TypeError` listing
   * each problem and keeps the current set.
   */
  replace(credentials: readonly ApiCredential[]): void;
}

/**
 * An `authorize` for a set of credentials: bearer tokens
 * (`Authorization: Bearer <token>`) and API key + email pairs
 * (`X-Auth-Key` + `X-Auth-Email`, the official `cloudflare` SDK's `apiKey`
 * and `apiEmail`), each stored as a hash and limited to accounts and to
 * `read` or `read_write`.
 *
 * - No credential, an unknown one, both styles at once, or a value over
 *   {@link MAX_CREDENTIAL_SECRET_LENGTH} → 401 (`UnauthorizedError`).
 * - A known credential outside its accounts, or `read` asking to write →
 *   403 (`ForbiddenError`). `GET /oauth/scopes` is allowed to every known
 *   credential.
 *
 * A request's secret is hashed once and compared with every stored hash in
 * constant time, with no early exit, so neither timing nor the number of
 * credentials tells which one nearly matched.
 *
 * @example
 * ```ts
 * import { createCredentialsAuthorizer, createFetchHandler, hashCredentialSecret } from "oauth-client-registry/http";
 *
 * const credentials = createCredentialsAuthorizer([
 *   { name: "ci", tokenHash: hashCredentialSecret(process.env.CI_TOKEN!), accounts: "*", access: "read_write" },
 *   { name: "audit", email: "audit@example.com", keyHash: hashCredentialSecret(process.env.AUDIT_API_KEY!), accounts: ["acct-1"], access: "read" },
 * ]);
 * const handler = createFetchHandler(registry, { authorize: credentials.authorize });
 * // later, e.g. on SIGHUP: credentials.replace(await loadMyCredentials());
 * ```
 */
export function createCredentialsAuthorizer(credentials: readonly ApiCredential[]): CredentialsAuthorizer {
  let current = compile(credentials);
  const authorize: Authorize = async (request, context) => {
    const presented = presentedCredential(request);
    if ("refused" in presented) throw new UnauthorizedError(presented.refused);
    // One set for the whole decision, even if replace() runs meanwhile.
    const set = current;
    const secret = sha256(utf8ToBytes(presented.secret));
    const email = presented.kind === "key" ? emailDigest(presented.email) : null;
    let matched: CompiledCredential | null = null;
    for (const candidate of set) {
      const secretEqual = constantTimeEqual(secret, candidate.secret);
      const emailEqual = email !== null && candidate.email !== null ? constantTimeEqual(email, candidate.email) : candidate.email === email;
      if (candidate.kind === presented.kind && secretEqual && emailEqual && matched === null) matched = candidate;
    }
    if (matched === null) {
      throw new UnauthorizedError(presented.kind === "token" ? "a valid bearer token is required" : "a valid API key and email are required");
    }
    if (context.accountId !== null && matched.accounts !== "*" && !matched.accounts.has(context.accountId)) {
      throw new ForbiddenError(`this credential may not act on account ${context.accountId}`);
    }
    if (matched.access === "read" && !READ_PERMISSIONS.has(context.permission)) {
      throw new ForbiddenError(`this credential is read-only; ${context.permission} needs read_write`);
    }
    return true;
  };
  return {
    authorize,
    replace(next) {
      current = compile(next);
    },
  };
}
