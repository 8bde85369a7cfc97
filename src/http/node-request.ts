/**
 * A node:http request read directly by the handler ({@link nodeCall}), and
 * the `Request` that `authorize` receives for it: it answers `method`, `url`
 * and `headers` from node's request without building a fetch `Request`, and
 * builds a real one only when anything else is asked of it. Nothing global is
 * replaced, so the embedding application's `Request` and `Response` stay
 * exactly what they were.
 */
import type { IncomingMessage } from "node:http";
import { readLimitedBody } from "./body.js";
import type { IncomingCall } from "./call.js";

/** What Express adds to a request: the URL before mount-path stripping, and a parsed body. */
export interface ExpressLikeRequest extends IncomingMessage {
  originalUrl?: string;
  body?: unknown;
  rawBody?: Buffer;
}

/** Thrown when the request line or Host header cannot make a URL; the bridge answers 400. */
export class MalformedTargetError extends Error {
  constructor() {
    super("malformed request line or Host header");
    this.name = "MalformedTargetError";
  }
}

/** A host name, IPv4 address or bracketed IPv6 address, with an optional port: nothing that could move the path. */
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Fetch normalizes these methods' case (and no others); node's parser
 * already sends them upper-case, so this only guards hand-made requests.
 */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

function fetchMethod(method: string | undefined): string {
  if (method === undefined || method === "") return "GET";
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

/**
 * The URL a fetch runtime would give the request: the absolute target as
 * sent, or the scheme, Host header (or `hostname`) and origin-form target.
 * Throws {@link MalformedTargetError} for a Host that is not a plain host
 * (`bad host[`, `a/b`, `user@h`), or a target that does not parse.
 */
function requestUrl(incoming: IncomingMessage, target: string, hostname: string): URL {
  try {
    if (target.startsWith("http://") || target.startsWith("https://")) return new URL(target);
    // An empty Host (allowed for a target without authority) falls back like a missing one.
    const host = incoming.headers.host || hostname;
    if (!HOST.test(host) || !target.startsWith("/")) throw new MalformedTargetError();
    const scheme = (incoming.socket as { encrypted?: boolean } | null)?.encrypted === true ? "https" : "http";
    return new URL(`${scheme}://${host}${target}`);
  } catch {
    throw new MalformedTargetError();
  }
}

/** HTTP whitespace fetch strips from both ends of a header value. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * A header as fetch's `Headers.get` reports it: every field line with that
 * name, in order, joined by ", " ("; " for cookie). Node's own
 * `headers` object keeps only the first of some repeated headers, so the raw
 * lines are read instead.
 */
function rawHeader(rawHeaders: readonly string[], name: string): string | null {
  const wanted = name.toLowerCase();
  let value: string | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    if (key.length !== wanted.length || key.toLowerCase() !== wanted) continue;
    const line = rawHeaders[i + 1]!.replace(EDGE_WHITESPACE, "");
    value = value === null ? line : `${value}${wanted === "cookie" ? "; " : ", "}${line}`;
  }
  return value;
}

function realHeaders(rawHeaders: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    // HTTP/2 pseudo-headers (":path") are not fetch headers.
    if (!rawHeaders[i]!.startsWith(":")) headers.append(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return headers;
}

interface CallState {
  incoming: ExpressLikeRequest;
  method: string;
  url: URL;
  /** A real `Headers`, built on first use of anything but `get` and `has`. */
  headers: Headers | undefined;
  /** The light `Headers` handed out before a real one was needed. */
  lightHeaders: Headers | undefined;
  /** The fetch Request built on first use of anything but method, url and headers. */
  native: Request | undefined;
  /** Whether reading the body has started (the bridge drains what is left after answering). */
  bodyTouched: boolean;
}

const STATE = Symbol("state");
type Light = { [STATE]: CallState };

function headersOf(state: CallState): Headers {
  return (state.headers ??= realHeaders(state.incoming.rawHeaders));
}

/** The node request as a fetch `Request`, its body streamed from node's request (or from Express's parsed body). */
function nativeRequest(state: CallState): Request {
  if (state.native !== undefined) return state.native;
  const init: RequestInit & { duplex?: "half" } = { method: state.method, headers: headersOf(state) };
  if (state.method !== "GET" && state.method !== "HEAD" && !state.bodyTouched) {
    state.bodyTouched = true;
    const { incoming } = state;
    init.body = Buffer.isBuffer(incoming.rawBody) ? new Uint8Array(incoming.rawBody) : bodyStream(incoming);
    init.duplex = "half";
  }
  return (state.native = new Request(state.url.href, init));
}

/**
 * Node's request body as a web stream, pausing node's request while the
 * stream's queue is full. (Built here rather than with `node:stream`, which
 * this module does not import, so that importing the package outside Node
 * loads no Node module.)
 */
function bodyStream(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  let stop = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const onData = (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
      };
      const onEnd = () => {
        stop();
        controller.close();
      };
      const onError = (error: unknown) => {
        stop();
        controller.error(error);
      };
      const onClose = () => {
        if (!incoming.readableEnded) onError(new Error("the client closed the connection before the body ended"));
      };
      // Once the stream is done (or cancelled) nothing is enqueued any more, even if the bridge drains the rest.
      stop = () => {
        incoming.off("data", onData);
        incoming.off("end", onEnd);
        incoming.off("error", onError);
        incoming.off("close", onClose);
      };
      incoming.on("data", onData);
      incoming.on("end", onEnd);
      incoming.on("error", onError);
      incoming.on("close", onClose);
    },
    pull() {
      incoming.resume();
    },
    cancel() {
      stop();
      incoming.pause();
    },
  });
}

/**
 * A prototype whose chain ends in `base` (so `instanceof` holds): the `own`
 * members, and every other member of `base` forwarded to the real object
 * `real(state)` builds on first use.
 */
function forwardingPrototype(base: object, own: PropertyDescriptorMap, real: (state: CallState) => object): object {
  const members: PropertyDescriptorMap = { ...own };
  for (const name of Object.getOwnPropertyNames(base)) {
    if (name === "constructor" || name in own) continue;
    const descriptor = Object.getOwnPropertyDescriptor(base, name)!;
    if (descriptor.get !== undefined) {
      members[name] = {
        get(this: Light) {
          return (real(this[STATE]) as Record<string, unknown>)[name];
        },
        configurable: true,
      };
    } else if (typeof descriptor.value === "function") {
      members[name] = {
        value(this: Light, ...args: unknown[]) {
          const target = real(this[STATE]) as Record<string, (...a: unknown[]) => unknown>;
          return target[name]!(...args);
        },
        configurable: true,
        writable: true,
      };
    }
  }
  // Iteration (`for (const [k, v] of headers)`) goes to the real object too.
  if (Symbol.iterator in base) {
    members[Symbol.iterator] = {
      value(this: Light) {
        return (real(this[STATE]) as Iterable<unknown>)[Symbol.iterator]();
      },
      configurable: true,
      writable: true,
    };
  }
  return Object.create(base, members) as object;
}

/** A header name fetch accepts; anything else goes to the real `Headers`, which throws as fetch does. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

let prototypes: { request: object; headers: object } | undefined;

/**
 * Light `Request`s answer `method`, `url` and `headers`, light `Headers`
 * answer `get` and `has`, from node's request; anything else builds the
 * real object once and forwards to it.
 */
function lightPrototypes(): { request: object; headers: object } {
  if (prototypes !== undefined) return prototypes;
  const headers = forwardingPrototype(
    Headers.prototype,
    {
      get: {
        value(this: Light, name: string) {
          const state = this[STATE];
          if (state.headers !== undefined || typeof name !== "string" || !TOKEN.test(name)) return headersOf(state).get(name);
          return rawHeader(state.incoming.rawHeaders, name);
        },
        configurable: true,
        writable: true,
      },
      has: {
        value(this: Light, name: string) {
          const state = this[STATE];
          if (state.headers !== undefined || typeof name !== "string" || !TOKEN.test(name)) return headersOf(state).has(name);
          return rawHeader(state.incoming.rawHeaders, name) !== null;
        },
        configurable: true,
        writable: true,
      },
    },
    headersOf,
  );
  const request = forwardingPrototype(
    Request.prototype,
    {
      method: { get(this: Light) { return this[STATE].method; }, configurable: true },
      url: { get(this: Light) { return this[STATE].url.href; }, configurable: true },
      headers: {
        get(this: Light) {
          const state = this[STATE];
          return state.headers ?? (state.lightHeaders ??= lightObject<Headers>(headers, state));
        },
        configurable: true,
      },
    },
    nativeRequest,
  );
  return (prototypes = { request, headers });
}

function lightObject<T>(prototype: object, state: CallState): T {
  const light = Object.create(prototype) as Light;
  Object.defineProperty(light, STATE, { value: state });
  return light as T;
}

/**
 * A node:http request as an {@link IncomingCall}: the body is read from the
 * socket with the limit applied as bytes arrive, and the `Request` given to
 * `authorize` is a light one (see the module comment).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * createServer((incoming) => {
 *   const call = nodeCall(incoming, "localhost"); // throws MalformedTargetError for a bad Host
 * });
 * ```
 */
export function nodeCall(incoming: ExpressLikeRequest, hostname: string): IncomingCall & { bodyTouched(): boolean } {
  return new NodeCall(incoming, hostname);
}

/** See {@link nodeCall}. */
class NodeCall implements IncomingCall {
  readonly method: string;
  readonly pathname: string;
  readonly #state: CallState;
  #light: Request | undefined;

  constructor(incoming: ExpressLikeRequest, hostname: string) {
    this.method = fetchMethod(incoming.method);
    const url = requestUrl(incoming, incoming.url ?? "/", hostname);
    this.pathname = url.pathname;
    this.#state = {
      incoming,
      method: this.method,
      url,
      headers: undefined,
      lightHeaders: undefined,
      native: undefined,
      bodyTouched: false,
    };
  }

  searchParams(): URLSearchParams {
    return this.#state.url.searchParams;
  }

  header(name: string): string | null {
    const state = this.#state;
    return state.headers !== undefined ? state.headers.get(name) : rawHeader(state.incoming.rawHeaders, name);
  }

  readBody(limit: number): Promise<Uint8Array | null> {
    const state = this.#state;
    if (state.native !== undefined) return readLimitedBody(state.native, limit);
    state.bodyTouched = true;
    return readIncoming(state.incoming, limit);
  }

  request(): Request {
    return (this.#light ??= lightObject<Request>(lightPrototypes().request, this.#state));
  }

  /** Whether reading the body has started, by the handler or through the `Request`. */
  bodyTouched(): boolean {
    return this.#state.bodyTouched;
  }
}

/**
 * Reads node's request body up to `limit` bytes: resolves null as soon as
 * more arrived (or a Content-Length above the limit is declared, without
 * reading), rejects when the client aborts mid-body.
 */
function readIncoming(incoming: ExpressLikeRequest, limit: number): Promise<Uint8Array | null> {
  // A body parser (express.json()) got there first; the bridge re-serialized its result.
  if (Buffer.isBuffer(incoming.rawBody)) return Promise.resolve(incoming.rawBody.byteLength > limit ? null : incoming.rawBody);
  const declared = incoming.headers["content-length"];
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) return Promise.resolve(null);
  if (incoming.readableEnded) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onFail);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) {
        done();
        incoming.pause();
        resolve(null);
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onFail = (error: unknown) => {
      done();
      reject(error instanceof Error ? error : new Error("the request body could not be read"));
    };
    const onClose = () => {
      if (incoming.readableEnded) onEnd();
      else onFail(new Error("the client closed the connection before the body ended"));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onFail);
    incoming.on("close", onClose);
  });
}
