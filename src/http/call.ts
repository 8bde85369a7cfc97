/**
 * The request as the handler reads it. A fetch `Request` is one source; the
 * node bridge is the other, reading node:http's request directly so that the
 * common call builds neither a `Request` nor a body stream. Internal to the
 * package: the node bridge finds the handler's entry point under
 * {@link CALL_HANDLER}.
 */
import { readLimitedBody } from "./body.js";
import type { Answer } from "./envelope.js";

/** One incoming request, whatever it arrived as. */
export interface IncomingCall {
  /** The method as fetch reports it (standard methods upper-cased). */
  readonly method: string;
  /** The path of the request URL, still percent-encoded, as `URL.pathname` reports it. */
  readonly pathname: string;
  /** The query of the request URL. */
  searchParams(): URLSearchParams;
  /** A request header as fetch's `Headers.get` reports it. */
  header(name: string): string | null;
  /** The body bytes; null when more than `limit` arrived; rejects when the body cannot be read. */
  readBody(limit: number): Promise<Uint8Array | null>;
  /** The `Request` handed to `authorize` and `onError`. */
  request(): Request;
}

/** The handler's entry point below the fetch signature. */
export type CallHandler = (call: IncomingCall) => Promise<Answer>;

/** Where a handler built by `createFetchHandler` or `createRegistrationHandler` keeps its {@link CallHandler}. */
export const CALL_HANDLER: unique symbol = Symbol("oauth-client-registry.callHandler");

/**
 * A fetch `Request` as an {@link IncomingCall}.
 *
 * @example
 * ```ts
 * const answer = await callHandlerOf(handler)?.(fetchCall(request));
 * ```
 */
export function fetchCall(request: Request): IncomingCall {
  return new FetchCall(request);
}

class FetchCall implements IncomingCall {
  readonly method: string;
  readonly pathname: string;
  readonly #request: Request;
  readonly #search: string;

  constructor(request: Request) {
    this.#request = request;
    this.method = request.method;
    const url = request.url;
    const split = splitHttpUrl(url);
    if (split === null) {
      const parsed = new URL(url);
      this.pathname = parsed.pathname;
      this.#search = parsed.search;
    } else {
      this.pathname = split.pathname;
      this.#search = split.search;
    }
  }

  searchParams(): URLSearchParams {
    return new URLSearchParams(this.#search);
  }

  header(name: string): string | null {
    return this.#request.headers.get(name);
  }

  readBody(limit: number): Promise<Uint8Array | null> {
    return readLimitedBody(this.#request, limit);
  }

  request(): Request {
    return this.#request;
  }
}

/**
 * Path and query of an http(s) URL as a `Request` reports it: already
 * serialized by the URL parser, so they are read off the string instead of
 * parsing it again. Null for anything else (the caller parses it).
 * Unresolved dot segments, were a caller-made request to carry any, stay in
 * the path, where the path check refuses them.
 */
function splitHttpUrl(url: string): { pathname: string; search: string } | null {
  const authority = url.startsWith("https://") ? 8 : url.startsWith("http://") ? 7 : -1;
  if (authority === -1) return null;
  const slash = url.indexOf("/", authority);
  const question = url.indexOf("?", authority);
  const hash = url.indexOf("#", authority);
  const end = hash === -1 ? url.length : hash;
  // An authority ending in "?" or "#" (no path) or any oddity: let the URL parser decide.
  if (slash === -1 || (question !== -1 && question < slash) || (hash !== -1 && hash < slash)) return null;
  const queryStart = question !== -1 && question < end ? question : end;
  return { pathname: url.slice(slash, queryStart), search: url.slice(queryStart, end) };
}

/**
 * The handler's {@link CallHandler}, when `handler` was built by
 * `createFetchHandler` or `createRegistrationHandler` (a wrapper around
 * one hides it).
 *
 * @example
 * ```ts
 * const direct = callHandlerOf(handler); // undefined for any other fetch handler
 * ```
 */
export function callHandlerOf(handler: unknown): CallHandler | undefined {
  const entry = (handler as { [CALL_HANDLER]?: unknown })[CALL_HANDLER];
  return typeof entry === "function" ? (entry as CallHandler) : undefined;
}
