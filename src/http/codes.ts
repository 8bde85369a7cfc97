/**
 * The numeric error codes of the HTTP API. Each error kind has exactly one
 * code; codes never change meaning once published (docs/http.md lists them).
 * Numbers start at 1000, the minimum the Cloudflare v4 envelope allows, and
 * are grouped by hundreds: request problems, auth, not found, conflicts,
 * server faults.
 */
import { STATUS_BY_CODE, type OAuthClientErrorCode } from "../model/errors.js";

/** Every error kind the HTTP layer can answer with. */
export type HttpErrorKind =
  | OAuthClientErrorCode
  | "malformed_json"
  | "bad_request"
  | "invalid_parameter"
  | "route_not_found"
  | "method_not_allowed";

/** One row of the error table: the stable number and the HTTP status it travels with. */
export interface HttpErrorCode {
  readonly code: number;
  readonly status: number;
  readonly description: string;
}

/** Statuses of the kinds only the HTTP layer produces; the registry's codes take theirs from `STATUS_BY_CODE`. */
const HTTP_ONLY_STATUS = {
  malformed_json: 400,
  bad_request: 400,
  invalid_parameter: 400,
  route_not_found: 404,
  method_not_allowed: 405,
} as const satisfies Record<Exclude<HttpErrorKind, OAuthClientErrorCode>, number>;

const STATUS: Readonly<Record<HttpErrorKind, number>> = { ...STATUS_BY_CODE, ...HTTP_ONLY_STATUS };

/** Number and description of each kind; the status is joined in from the tables above. */
const NUMBERED: Readonly<Record<HttpErrorKind, Omit<HttpErrorCode, "status">>> = {
  validation_failed: { code: 1000, description: "The request body or a path parameter broke a rule; one error per issue, each with source.pointer." },
  malformed_json: { code: 1001, description: "The body is not valid UTF-8 JSON, or is nested too deeply." },
  invalid_parameter: { code: 1002, description: "A query parameter (per_page, cursor) is invalid." },
  unsupported_media_type: { code: 1003, description: "A body was sent with a content type other than application/json." },
  payload_too_large: { code: 1004, description: "The body exceeds the configured size limit." },
  invalid_client_metadata: { code: 1006, description: "A Client ID Metadata Document could not be fetched or breaks a client rule; one error per issue." },
  bad_request: {
    code: 1005,
    description: "The path contains a dot segment or an encoded slash or backslash (refused, never resolved), or the request line or Host header is malformed.",
  },
  unauthorized: { code: 1100, description: "Missing or invalid credentials." },
  forbidden: { code: 1101, description: "The caller lacks the permission the route needs." },
  not_found: { code: 1200, description: "No such client in this account." },
  route_not_found: { code: 1201, description: "No route matches the path." },
  method_not_allowed: { code: 1202, description: "The route exists but not for this method; see the Allow header." },
  rotated_secret_not_found: { code: 1203, description: "The client has no rotated secret to delete." },
  conflict: { code: 1300, description: "The request conflicts with the current state." },
  rotated_secret_exists: { code: 1301, description: "A rotated secret already exists; delete it before rotating again." },
  concurrent_modification: { code: 1302, description: "Concurrent writers kept winning; retry the request." },
  client_id_taken: { code: 1303, description: "The client id is already in use." },
  precondition_failed: { code: 1304, description: "If-Match names a version of the client that is no longer current; read it again and retry." },
  storage_unavailable: { code: 1501, description: "The database is unreachable or locked past its deadline; retry after the Retry-After header (x-should-retry: true)." },
  overloaded: { code: 1502, description: "Too many slow secret verifications are in progress; retry shortly (x-should-retry: true)." },
  internal_error: { code: 1500, description: "An unexpected server fault; details are logged, never returned." },
};

/**
 * The error table, keyed by kind.
 *
 * @example
 * ```ts
 * import { HTTP_ERROR_CODES } from "oauth-client-registry/http";
 * HTTP_ERROR_CODES.rotated_secret_exists.code; // 1301
 * ```
 */
export const HTTP_ERROR_CODES: Readonly<Record<HttpErrorKind, HttpErrorCode>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(NUMBERED) as HttpErrorKind[]).map((kind) => [kind, { code: NUMBERED[kind].code, status: STATUS[kind], description: NUMBERED[kind].description }]),
  ) as Record<HttpErrorKind, HttpErrorCode>,
);
