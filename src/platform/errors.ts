/**
 * The error of every outbound fetch, whichever transport made it (the
 * pinned-socket fetcher on Node, the platform's `fetch` elsewhere).
 */
/** Stable reasons a remote fetch fails; safe to branch on and to log. */
export type RemoteFetchReason =
  /** Not an absolute https URL, or it carries userinfo or a fragment. */
  | "invalid_url"
  /** The host is, or resolves to, an address the policy refuses (loopback, private, metadata …). */
  | "forbidden_address"
  /** The host name did not resolve. */
  | "dns_failure"
  /** DNS, connect, headers and body together took longer than the timeout. */
  | "timeout"
  /** The body (or its announced Content-Length) is larger than the cap. */
  | "too_large"
  /** The server answered with a 3xx; redirects are never followed. */
  | "redirect"
  /** The server answered with a status other than 200. */
  | "http_status"
  /** The body is not valid UTF-8 JSON. */
  | "not_json"
  /** The response is not `application/json` or `application/*+json`. */
  | "content_type"
  /** The response is compressed or otherwise encoded. */
  | "content_encoding"
  /** The TLS handshake failed (untrusted certificate, wrong host name …). */
  | "tls"
  /** The connection failed or was cut before the body ended. */
  | "connection"
  /** JSON, but not the shape expected (a metadata document, a key set). */
  | "invalid_document"
  /** An operator hook (`allowUrl`, `allowDocument`) refused the URL or the document. */
  | "denied"
  /** Too many different URLs are being fetched at once. */
  | "busy";

/**
 * A remote document could not be fetched or was refused. `reason` is stable;
 * `message` says what happened in words and never contains the response body.
 *
 * @example
 * ```ts
 * import { createSafeFetcher, RemoteFetchError } from "oauth-client-registry/remote";
 *
 * try {
 *   await createSafeFetcher().fetchJson("https://10.0.0.1/x");
 * } catch (e) {
 *   if (e instanceof RemoteFetchError && e.reason === "forbidden_address") console.log(e.message);
 * }
 * ```
 */
export class RemoteFetchError extends Error {
  readonly reason: RemoteFetchReason;
  /** The URL as the caller gave it. */
  readonly url: string;
  /** The HTTP status when the server answered (reasons "redirect", "http_status" and later ones). */
  readonly status: number | undefined;

  constructor(
    reason: RemoteFetchReason,
    url: string,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RemoteFetchError";
    this.reason = reason;
    this.url = url;
    this.status = options.status;
  }
}
