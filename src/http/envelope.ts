/**
 * The Cloudflare v4 response envelope, as zod schemas (so the OpenAPI
 * document is generated from them) and as response builders.
 */
import * as z from "zod";
import { limitIssues, OAuthClientError, StorageUnavailableError, type ValidationIssue } from "../model/errors.js";
import { HTTP_ERROR_CODES, type HttpErrorKind } from "./codes.js";
import { jsonResponse } from "./response.js";

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

/**
 * A response before it becomes a fetch `Response` or a node:http write: the
 * node bridge writes it to the socket directly, so the common path builds no
 * `Response`, no `Headers` and no body stream.
 */
export interface Answer {
  status: number;
  /** Lower-case names; a fresh object per answer, so a writer may add to it. */
  headers: Record<string, string>;
  /** The JSON text, or null for no body. */
  body: string | null;
}

/** Extra response headers (Cache-Control for secrets, Allow for 405). */
export type ExtraHeaders = Readonly<Record<string, string>>;

const CONTENT_TYPE = "application/json; charset=utf-8";

/** Everything of a success envelope before `result`, as JSON text. */
const SUCCESS_HEAD = '{"success":true,"errors":[],"messages":[],"result":';

/**
 * A 200 answer carrying `result` (and `result_info` for lists). The envelope
 * is written around the serialized result, so the result is serialized once
 * and no envelope object is built.
 *
 * @example
 * ```ts
 * successAnswer({ id: "abc" }).body; // '{"success":true,"errors":[],"messages":[],"result":{"id":"abc"}}'
 * ```
 */
export function successAnswer(result: unknown, options: { resultInfo?: ResultInfo; headers?: ExtraHeaders } = {}): Answer {
  const info = options.resultInfo === undefined ? "" : `,"result_info":${JSON.stringify(options.resultInfo)}`;
  const headers: Record<string, string> = { "content-type": CONTENT_TYPE, "x-content-type-options": "nosniff" };
  if (options.headers !== undefined) Object.assign(headers, options.headers);
  return { status: 200, headers, body: `${SUCCESS_HEAD}${JSON.stringify(result)}${info}}` };
}

/**
 * An error answer of the given kind with one or more entries.
 *
 * @example
 * ```ts
 * failureAnswer("route_not_found", [{ message: "no route for GET /x" }]).status; // 404
 * ```
 */
export function failureAnswer(
  kind: HttpErrorKind,
  entries: readonly { message: string; pointer?: string }[],
  extra: ExtraHeaders = {},
): Answer {
  const { code, status } = HTTP_ERROR_CODES[kind];
  const errors: ApiMessage[] = entries.map((entry) =>
    entry.pointer === undefined ? { code, message: entry.message } : { code, message: entry.message, source: { pointer: entry.pointer } },
  );
  const headers: Record<string, string> = { "content-type": CONTENT_TYPE, "x-content-type-options": "nosniff", ...extra };
  // Retrying a conflict replays the same request into the same state; the
  // official SDK would otherwise retry 409s on its own.
  if (status === 409) headers["x-should-retry"] = "false";
  // The database is down or locked: the same request will work again soon.
  if (status === 503) headers["x-should-retry"] = "true";
  return { status, headers, body: JSON.stringify({ success: false, errors, messages: [], result: null }) };
}

/**
 * The fetch `Response` of an answer; `head` drops the body (a HEAD request).
 *
 * @example
 * ```ts
 * const response = toResponse(successAnswer({ id: "abc" }));
 * ```
 */
export function toResponse(answer: Answer, head = false): Response {
  return jsonResponse(head ? null : answer.body, answer.status, answer.headers);
}

/**
 * A 200 response carrying `result` (and `result_info` for lists).
 *
 * @example
 * ```ts
 * const response = success({ id: "abc" });
 * ```
 */
export function success(result: unknown, options: { resultInfo?: ResultInfo; headers?: ExtraHeaders } = {}): Response {
  return toResponse(successAnswer(result, options));
}

/**
 * An error response of the given kind with one or more entries.
 *
 * @example
 * ```ts
 * const response = failure("route_not_found", [{ message: "no route for GET /x" }]); // 404
 * ```
 */
export function failure(
  kind: HttpErrorKind,
  entries: readonly { message: string; pointer?: string }[],
  headers: ExtraHeaders = {},
): Response {
  return toResponse(failureAnswer(kind, entries, headers));
}

/**
 * One error entry per validation issue, located by its pointer; at most
 * `MAX_ISSUES`, even for an error not built by `ValidationError`.
 *
 * @example
 * ```ts
 * issueEntries([{ path: "/scopes/0", message: "not in the catalog" }]); // [{ message: "not in the catalog", pointer: "/scopes/0" }]
 * ```
 */
export function issueEntries(issues: readonly ValidationIssue[]): { message: string; pointer: string }[] {
  return limitIssues(issues).map((issue) => ({ message: issue.message, pointer: issue.path }));
}

/**
 * Translates a typed registry error into an envelope answer. Messages of
 * errors that are not safe to expose are replaced by a generic one.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "oauth-client-registry";
 * errorAnswer(new NotFoundError()).status; // 404
 * ```
 */
export function errorAnswer(error: OAuthClientError): Answer {
  const kind: HttpErrorKind = error.code in HTTP_ERROR_CODES ? error.code : "internal_error";
  if (error instanceof StorageUnavailableError) {
    return failureAnswer("storage_unavailable", [{ message: error.message }], {
      "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))),
    });
  }
  if (error.code === "overloaded") return failureAnswer("overloaded", [{ message: error.message }], { "retry-after": "1" });
  if (!error.expose || HTTP_ERROR_CODES[kind].status >= 500) {
    return failureAnswer("internal_error", [{ message: "internal server error" }]);
  }
  if (kind === "validation_failed" && error.issues.length > 0) return failureAnswer(kind, issueEntries(error.issues));
  return failureAnswer(kind, [{ message: error.message }]);
}

/**
 * {@link errorAnswer} as a fetch `Response`.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "oauth-client-registry";
 * const response = errorResponse(new NotFoundError()); // 404, code 1200
 * ```
 */
export function errorResponse(error: OAuthClientError): Response {
  return toResponse(errorAnswer(error));
}
