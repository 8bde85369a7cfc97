/**
 * The Cloudflare v4 response envelope, as zod schemas (so the OpenAPI
 * document is generated from them) and as response builders.
 */
import { z } from "zod";
import { limitIssues, OAuthClientError, StorageUnavailableError, type ValidationIssue } from "../errors.js";
import { HTTP_ERROR_CODES, type HttpErrorKind } from "./codes.js";

export const apiMessageSchema = z
  .object({
    code: z.number().int().min(1000).describe("Stable numeric code; see docs/http.md."),
    message: z.string(),
    source: z
      .object({ pointer: z.string().describe("JSON pointer (RFC 6901) into the request body.") })
      .optional(),
  })
  .describe("One error or message.");
export type ApiMessage = z.infer<typeof apiMessageSchema>;

export const resultInfoSchema = z
  .object({
    count: z.number().int().describe("Number of items in this response."),
    per_page: z.number().int().optional().describe("Page size asked for (paginated requests only)."),
    cursor: z
      .string()
      .optional()
      .describe("Pass as ?cursor= to fetch the next page; absent on the last page."),
  })
  .describe("Pagination details of a list response.");
export type ResultInfo = z.infer<typeof resultInfoSchema>;

/** Success envelope around a result schema. */
export function successEnvelopeSchema<T extends z.ZodType>(result: T) {
  return z.object({
    success: z.literal(true),
    errors: z.array(apiMessageSchema).max(0),
    messages: z.array(apiMessageSchema),
    result,
  });
}

/** Success envelope of a list, with result_info. */
export function listEnvelopeSchema<T extends z.ZodType>(item: T) {
  return successEnvelopeSchema(z.array(item)).extend({ result_info: resultInfoSchema });
}

export const errorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    errors: z.array(apiMessageSchema).min(1),
    messages: z.array(apiMessageSchema),
    result: z.null(),
  })
  .describe("Every failed call answers with this body.");

/** Headers every API response carries. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json; charset=utf-8",
  "x-content-type-options": "nosniff",
};

/** Extra response headers (Cache-Control for secrets, Allow for 405). */
export type ExtraHeaders = Readonly<Record<string, string>>;

/**
 * A 200 response carrying `result` (and `result_info` for lists).
 *
 * @example
 * return success({ id: "abc" });
 */
export function success(result: unknown, options: { resultInfo?: ResultInfo; headers?: ExtraHeaders } = {}): Response {
  const body: Record<string, unknown> = { success: true, errors: [], messages: [], result };
  if (options.resultInfo) body.result_info = options.resultInfo;
  return new Response(JSON.stringify(body), { status: 200, headers: { ...BASE_HEADERS, ...options.headers } });
}

/**
 * An error response of the given kind with one or more entries.
 *
 * @example
 * return failure("route_not_found", [{ message: "no route for GET /x" }]);
 */
export function failure(
  kind: HttpErrorKind,
  entries: readonly { message: string; pointer?: string }[],
  headers: ExtraHeaders = {},
): Response {
  const { code, status } = HTTP_ERROR_CODES[kind];
  const errors: ApiMessage[] = entries.map((entry) =>
    entry.pointer === undefined ? { code, message: entry.message } : { code, message: entry.message, source: { pointer: entry.pointer } },
  );
  const extra: Record<string, string> = { ...headers };
  // Retrying a conflict replays the same request into the same state; the
  // official SDK would otherwise retry 409s on its own.
  if (status === 409) extra["x-should-retry"] = "false";
  // The database is down or locked: the same request will work again soon.
  if (status === 503) extra["x-should-retry"] = "true";
  return new Response(JSON.stringify({ success: false, errors, messages: [], result: null }), {
    status,
    headers: { ...BASE_HEADERS, ...extra },
  });
}

/**
 * One error entry per validation issue, located by its pointer; at most
 * `MAX_ISSUES`, even for an error not built by `ValidationError`.
 *
 * @example
 * issueEntries([{ path: "/scopes/0", message: "not in the catalog" }]); // [{ message: "not in the catalog", pointer: "/scopes/0" }]
 */
export function issueEntries(issues: readonly ValidationIssue[]): { message: string; pointer: string }[] {
  return limitIssues(issues).map((issue) => ({ message: issue.message, pointer: issue.path }));
}

/**
 * Translates a typed registry error into an envelope. Messages of errors
 * that are not safe to expose are replaced by a generic one.
 *
 * @example
 * catch (error) { if (error instanceof OAuthClientError) return errorResponse(error) }
 */
export function errorResponse(error: OAuthClientError): Response {
  const kind: HttpErrorKind = error.code in HTTP_ERROR_CODES ? error.code : "internal_error";
  if (error instanceof StorageUnavailableError) {
    return failure("storage_unavailable", [{ message: error.message }], {
      "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))),
    });
  }
  if (error.code === "overloaded") return failure("overloaded", [{ message: error.message }], { "retry-after": "1" });
  if (!error.expose || HTTP_ERROR_CODES[kind].status >= 500) {
    return failure("internal_error", [{ message: "internal server error" }]);
  }
  if (kind === "validation_failed" && error.issues.length > 0) return failure(kind, issueEntries(error.issues));
  return failure(kind, [{ message: error.message }]);
}
