/**
 * Errors about an HTTP request rather than a registry operation: who is
 * calling (thrown by `authorize`) and what body arrived. The registry never
 * throws them. Their statuses come from the one table, `STATUS_BY_CODE`.
 */
import { OAuthClientError, STATUS_BY_CODE } from "../model/errors.js";

/**
 * The caller could not be identified (missing or bad credentials): 401.
 *
 * @example
 * ```ts
 * throw new UnauthorizedError()
 * ```
 */
export class UnauthorizedError extends OAuthClientError {
  constructor(message = "authentication required") {
    super("unauthorized", STATUS_BY_CODE.unauthorized, message);
  }
}

/**
 * The caller is known but may not do this: 403.
 *
 * @example
 * ```ts
 * throw new ForbiddenError("missing permission account.oauth-client.create")
 * ```
 */
export class ForbiddenError extends OAuthClientError {
  constructor(message = "not allowed") {
    super("forbidden", STATUS_BY_CODE.forbidden, message);
  }
}

/**
 * The request body is larger than the configured limit: 413.
 *
 * @example
 * ```ts
 * throw new PayloadTooLargeError(65536)
 * ```
 */
export class PayloadTooLargeError extends OAuthClientError {
  constructor(limitBytes: number) {
    super("payload_too_large", STATUS_BY_CODE.payload_too_large, `request body exceeds ${limitBytes} bytes`);
  }
}

/**
 * The request body is not declared as JSON: 415.
 *
 * @example
 * ```ts
 * throw new UnsupportedMediaTypeError("text/plain")
 * ```
 */
export class UnsupportedMediaTypeError extends OAuthClientError {
  constructor(contentType: string | null) {
    super(
      "unsupported_media_type",
      STATUS_BY_CODE.unsupported_media_type,
      `expected content-type application/json, got ${contentType ?? "none"}`,
    );
  }
}
