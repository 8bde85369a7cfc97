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
  /** The request URL, parsed (dot segments already resolved, as fetch does). */
  readonly url: URL;
  /** A request header as fetch's `Headers.get` reports it. */
  header(name: string): string | null;
  /** The body bytes; null when more than `limit` arrived; rejects when the body cannot be read. */
  readBody(limit: number): Promise<Uint8Array | null>;
  /** The `Request` handed to `authorize` and `onError`. */
  request(): Request;
}

/** The handler's entry point below the fetch signature. */
export type CallHandler = (call: IncomingCall) => Promise<Answer>;

/** Where a handler built by `createFetchHandler` keeps its {@link CallHandler}. */
export const CALL_HANDLER: unique symbol = Symbol("oauth-client-registry.callHandler");

/**
 * A fetch `Request` as an {@link IncomingCall}.
 *
 * @example
 * const answer = await handleCall(fetchCall(request));
 */
export function fetchCall(request: Request): IncomingCall {
  return new FetchCall(request);
}

class FetchCall implements IncomingCall {
  readonly method: string;
  readonly url: URL;
  readonly #request: Request;

  constructor(request: Request) {
    this.#request = request;
    this.method = request.method;
    this.url = new URL(request.url);
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
 * The handler's {@link CallHandler}, when `handler` was built by
 * `createFetchHandler` (a wrapper around one hides it).
 *
 * @example
 * const direct = callHandlerOf(handler); // undefined for any other fetch handler
 */
export function callHandlerOf(handler: unknown): CallHandler | undefined {
  const entry = (handler as { [CALL_HANDLER]?: unknown })[CALL_HANDLER];
  return typeof entry === "function" ? (entry as CallHandler) : undefined;
}
