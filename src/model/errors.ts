/**
 * Typed errors of the registry. Every error carries a stable string `code`
 * (safe to branch on), the HTTP `status` that fits it, and for validation a
 * list of `issues`, each naming the offending field with a JSON pointer.
 * Errors that only describe an HTTP request (401, 403, 413, 415) live in
 * `http/errors.ts`; every code's status is in {@link STATUS_BY_CODE}.
 */

/** One problem found in an input, located by a JSON pointer (RFC 6901). */
export interface ValidationIssue {
  /** JSON pointer into the input, e.g. `/redirect_uris/0`; `""` for the whole input. */
  path: string;
  /** Human-readable explanation of what is wrong and what is expected. */
  message: string;
}

/** Stable codes, one set per error kind. */
export type OAuthClientErrorCode =
  | "validation_failed"
  | "invalid_client_metadata"
  | "not_found"
  | "rotated_secret_not_found"
  | "conflict"
  | "rotated_secret_exists"
  | "concurrent_modification"
  | "client_id_taken"
  | "unauthorized"
  | "forbidden"
  | "payload_too_large"
  | "unsupported_media_type"
  | "precondition_failed"
  | "storage_unavailable"
  | "overloaded"
  | "internal_error";

/**
 * The HTTP status of every code, stated once: the error classes and the HTTP
 * layer's error table both read it, and `satisfies` makes a code without a
 * status a compile error.
 */
export const STATUS_BY_CODE = Object.freeze({
  validation_failed: 400,
  invalid_client_metadata: 400,
  not_found: 404,
  rotated_secret_not_found: 404,
  conflict: 409,
  rotated_secret_exists: 409,
  concurrent_modification: 409,
  client_id_taken: 409,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  precondition_failed: 412,
  storage_unavailable: 503,
  overloaded: 503,
  internal_error: 500,
} as const satisfies Record<OAuthClientErrorCode, number>);

/**
 * Base class of every error the registry throws on purpose.
 *
 * @example
 * ```ts
 * try { await registry.get("acct", "missing") }
 * catch (e) { if (e instanceof OAuthClientError) console.log(e.status, e.code) }
 * ```
 */
export class OAuthClientError extends Error {
  readonly code: OAuthClientErrorCode;
  readonly status: number;
  readonly issues: readonly ValidationIssue[];
  /** Whether `message` may be shown to the caller (false for internal errors). */
  readonly expose: boolean;

  constructor(
    code: OAuthClientErrorCode,
    status: number,
    message: string,
    options: { issues?: readonly ValidationIssue[]; expose?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.issues = options.issues ?? [];
    this.expose = options.expose ?? status < 500;
  }
}

/** Most issues one error carries; the last one sums up any that were left out. */
export const MAX_ISSUES = 100;

/**
 * `issues` bounded to {@link MAX_ISSUES}: a longer list keeps its first
 * `MAX_ISSUES - 1` issues and ends with one issue at the root (`""`) saying
 * how many more there were. Applying it twice changes nothing more.
 *
 * @example
 * ```ts
 * const tooMany = Array.from({ length: 16_000 }, (_, i) => ({ path: `/scopes/${i}`, message: "not a scope" }));
 * limitIssues(tooMany).at(-1); // { path: "", message: "and 15901 more issues (only the first 99 are listed)" }
 * ```
 */
export function limitIssues(issues: readonly ValidationIssue[]): readonly ValidationIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  const kept = issues.slice(0, MAX_ISSUES - 1);
  const more = issues.length - kept.length;
  return [...kept, { path: "", message: `and ${more} more issues (only the first ${kept.length} are listed)` }];
}

/**
 * The input broke one or more rules; `issues` lists every one of them, up
 * to {@link MAX_ISSUES} (see {@link limitIssues}), so that no input can make
 * an error, or the response carrying it, much larger than the input.
 *
 * @example
 * ```ts
 * throw new ValidationError([{ path: "/client_name", message: "must not be empty" }])
 * ```
 */
export class ValidationError extends OAuthClientError {
  constructor(issues: readonly ValidationIssue[], message?: string, code: "validation_failed" | "invalid_client_metadata" = "validation_failed") {
    super(code, STATUS_BY_CODE[code], message ?? summarize(issues), { issues: limitIssues(issues) });
  }
}

/**
 * A Client ID Metadata Document could not be used as a client: it could not
 * be fetched, is not JSON, names another client_id, or breaks a client rule
 * (`issues` say which, with pointers into the document).
 *
 * @example
 * ```ts
 * try {
 *   await registry.resolveClient("https://app.example.com/oauth-client.json");
 * } catch (e) {
 *   if (e instanceof ClientMetadataError) console.log(e.issues); // answer invalid_client with e.message
 * }
 * ```
 */
export class ClientMetadataError extends ValidationError {
  constructor(issues: readonly ValidationIssue[], message?: string) {
    super(issues, message ?? `unusable client metadata document: ${summarize(issues).replace(/^invalid input: /, "")}`, "invalid_client_metadata");
  }
}

/**
 * The client does not exist for this account (it may exist for another one).
 *
 * @example
 * ```ts
 * throw new NotFoundError("OAuth client not found")
 * ```
 */
export class NotFoundError extends OAuthClientError {
  constructor(message = "OAuth client not found", code: "not_found" | "rotated_secret_not_found" = "not_found") {
    super(code, STATUS_BY_CODE[code], message);
  }
}

/**
 * The operation clashes with the current state (a rotated secret already
 * exists, a client id is taken, or concurrent writers kept winning).
 *
 * @example
 * ```ts
 * throw new ConflictError("rotated_secret_exists", "delete the rotated secret first")
 * ```
 */
export class ConflictError extends OAuthClientError {
  constructor(
    code: "conflict" | "rotated_secret_exists" | "concurrent_modification" | "client_id_taken",
    message: string,
  ) {
    super(code, STATUS_BY_CODE[code], message);
  }
}

/**
 * The caller's expected version (HTTP `If-Match`) is not the stored one:
 * someone else changed the client since the caller read it.
 *
 * @example
 * ```ts
 * const client = await registry.get("acct", "0123456789abcdef0123456789abcdef");
 * await registry.update("acct", client.client_id, { client_name: "New" }, { expectedVersion: 3 }); // PreconditionFailedError when stale
 * ```
 */
export class PreconditionFailedError extends OAuthClientError {
  constructor(message = "the client changed since it was read; read it again and retry") {
    super("precondition_failed", STATUS_BY_CODE.precondition_failed, message);
  }
}

/**
 * The database cannot be reached, or stayed locked past the deadline. The
 * operation had no effect, or its effect is not known to the caller; a retry
 * after `retryAfterSeconds` is expected to succeed once the database is back.
 *
 * @example
 * ```ts
 * try {
 *   await registry.list("acct");
 * } catch (e) {
 *   if (e instanceof StorageUnavailableError) console.log(`retry in ${e.retryAfterSeconds} s`);
 * }
 * ```
 */
export class StorageUnavailableError extends OAuthClientError {
  /** Suggested wait before a retry, in seconds. */
  readonly retryAfterSeconds: number;

  constructor(message = "storage is temporarily unavailable; retry shortly", options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super("storage_unavailable", STATUS_BY_CODE.storage_unavailable, message, { cause: options.cause, expose: true });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/**
 * Too much expensive work is already running or queued (slow hashes of
 * imported secrets); the request was refused without doing any of it.
 *
 * @example
 * ```ts
 * try {
 *   await registry.authenticate("legacy-client", "imported secret");
 * } catch (e) {
 *   if (e instanceof OverloadedError) console.log("answer 503 with Retry-After: 1");
 * }
 * ```
 */
export class OverloadedError extends OAuthClientError {
  constructor(message = "too many slow secret verifications are in progress; retry shortly") {
    super("overloaded", STATUS_BY_CODE.overloaded, message, { expose: true });
  }
}

/**
 * Something failed that the caller cannot fix (a storage fault, a bug).
 * The message is not exposed over HTTP.
 *
 * @example
 * ```ts
 * throw new InternalError("store returned a malformed record", { cause: new Error("no client_id column") });
 * ```
 */
export class InternalError extends OAuthClientError {
  constructor(message = "internal error", options: { cause?: unknown } = {}) {
    super("internal_error", STATUS_BY_CODE.internal_error, message, { expose: false, cause: options.cause });
  }
}

function summarize(issues: readonly ValidationIssue[]): string {
  if (issues.length === 0) return "invalid input";
  const first = issues[0]!;
  const where = first.path === "" ? "" : `${first.path}: `;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `invalid input: ${where}${first.message}${more}`;
}

/** Escapes one JSON-pointer reference token (RFC 6901 §3). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Joins reference tokens into a JSON pointer: `pointer("scopes", 2)` → `/scopes/2`. */
export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => `/${pointerToken(t)}`).join("");
}
