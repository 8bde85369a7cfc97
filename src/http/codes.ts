/**
 * The numeric error codes of the HTTP API. Each error kind has exactly one
 * code; codes never change meaning once published (docs/http.md lists them).
 * Numbers start at 1000, the minimum the Cloudflare v4 envelope allows, and
 * are grouped by hundreds: request problems, auth, not found, conflicts,
 * server faults.
 */
import type { OAuthClientErrorCode } from "../errors.js";

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

/**
 * The error table, keyed by kind.
 *
 * @example
 * import { HTTP_ERROR_CODES } from "oauth-client-registry/http";
 * HTTP_ERROR_CODES.rotated_secret_exists.code; // 1301
 */
export const HTTP_ERROR_CODES: Readonly<Record<HttpErrorKind, HttpErrorCode>> = Object.freeze({
  validation_failed: { code: 1000, status: 400, description: "The request body or a path parameter broke a rule; one error per issue, each with source.pointer." },
  malformed_json: { code: 1001, status: 400, description: "The body is not valid UTF-8 JSON, or is nested too deeply." },
  invalid_parameter: { code: 1002, status: 400, description: "A query parameter (per_page, cursor) is invalid." },
  unsupported_media_type: { code: 1003, status: 415, description: "A body was sent with a content type other than application/json." },
  payload_too_large: { code: 1004, status: 413, description: "The body exceeds the configured size limit." },
  bad_request: {
    code: 1005,
    status: 400,
    description: "The path contains a dot segment or an encoded slash or backslash (refused, never resolved), or the request line or Host header is malformed.",
  },
  unauthorized: { code: 1100, status: 401, description: "Missing or invalid credentials." },
  forbidden: { code: 1101, status: 403, description: "The caller lacks the permission the route needs." },
  not_found: { code: 1200, status: 404, description: "No such client in this account." },
  route_not_found: { code: 1201, status: 404, description: "No route matches the path." },
  method_not_allowed: { code: 1202, status: 405, description: "The route exists but not for this method; see the Allow header." },
  rotated_secret_not_found: { code: 1203, status: 404, description: "The client has no rotated secret to delete." },
  conflict: { code: 1300, status: 409, description: "The request conflicts with the current state." },
  rotated_secret_exists: { code: 1301, status: 409, description: "A rotated secret already exists; delete it before rotating again." },
  concurrent_modification: { code: 1302, status: 409, description: "Concurrent writers kept winning; retry the request." },
  client_id_taken: { code: 1303, status: 409, description: "The client id is already in use." },
  precondition_failed: { code: 1304, status: 412, description: "If-Match names a version of the client that is no longer current; read it again and retry." },
  storage_unavailable: { code: 1501, status: 503, description: "The database is unreachable or locked past its deadline; retry after the Retry-After header (x-should-retry: true)." },
  overloaded: { code: 1502, status: 503, description: "Too many slow secret verifications are in progress; retry shortly (x-should-retry: true)." },
  internal_error: { code: 1500, status: 500, description: "An unexpected server fault; details are logged, never returned." },
});
