/**
 * The fetch `Response` of an answer. On Node, a `Response` built with a body
 * builds a byte stream for it at once (several times the cost of the whole
 * registry `get` it carries), and reading it back goes through that stream.
 * There the handler returns a `Response` subclass whose JSON text stays a
 * string: `text()` and `json()` read it directly, and the stream is built only
 * if someone asks for `body` (or `arrayBuffer()`, `blob()`, `clone()`…).
 * Filling a `Headers` costs as much again, so `headers` too is built on first
 * use (always the same mutable object, as on any `Response`); the status is
 * the real one, set by the `Response` constructor.
 *
 * The subclass is used only where every consumer reads the body through
 * these members: Node, with the runtime's own `Response`. Deno, Bun and
 * Workers (with or without `nodejs_compat`) serve a `Response` from its internal state, and an application
 * that replaced the global `Response` with its own class may read the body
 * from that class's own fields; both get a plain `Response`.
 */

const NativeResponse = globalThis.Response;

/**
 * True on Node while `Response` is still the runtime's own class: the one
 * its static `error()` builds instances of. (A replacement class inherits
 * `error()` from the runtime's, whose instances are not its own.)
 */
function nodeOwnResponse(): boolean {
  const runtime = globalThis as { process?: { release?: { name?: string } }; Deno?: unknown; Bun?: unknown; navigator?: { userAgent?: unknown } };
  if (runtime.process?.release?.name !== "node" || runtime.Deno !== undefined || runtime.Bun !== undefined) return false;
  // Workers with nodejs_compat have a `process` that calls itself "node" too
  // (and serve empty bodies from this subclass); their navigator tells them
  // apart. Node has no navigator before 21, and "Node.js/…" from 21 on.
  const agent = runtime.navigator?.userAgent;
  if (typeof agent === "string" && !agent.startsWith("Node.js/")) return false;
  try {
    return Object.getPrototypeOf(NativeResponse.error()) === NativeResponse.prototype;
  } catch {
    return false;
  }
}

/** A `Response` whose body is a string until something needs it as a stream. */
class TextResponse extends NativeResponse {
  readonly #text: string;
  readonly #headerInit: HeadersInit;
  #headers: Headers | undefined;
  #used = false;
  #native: Response | undefined;

  constructor(text: string, status: number, headers: HeadersInit) {
    super(null, { status });
    this.#text = text;
    this.#headerInit = headers;
  }

  override get headers(): Headers {
    return (this.#headers ??= new Headers(this.#headerInit));
  }

  /** The same response with the body as a real stream, built once. */
  #materialize(): Response {
    return (this.#native ??= new NativeResponse(this.#text, { status: this.status, statusText: this.statusText, headers: this.headers }));
  }

  #take(): Promise<string> | null {
    if (this.#native !== undefined) return null;
    if (this.#used) return Promise.reject(new TypeError("Body is unusable: the body has already been read"));
    this.#used = true;
    return Promise.resolve(this.#text);
  }

  override get body(): Response["body"] {
    return this.#used ? null : this.#materialize().body;
  }

  override get bodyUsed(): boolean {
    return this.#used || (this.#native?.bodyUsed ?? false);
  }

  override text(): Promise<string> {
    return this.#take() ?? this.#materialize().text();
  }

  override json(): Promise<unknown> {
    const text = this.#take();
    return text === null ? this.#materialize().json() : text.then((t) => JSON.parse(t) as unknown);
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#used ? Promise.reject(new TypeError("Body is unusable: the body has already been read")) : this.#materialize().arrayBuffer();
  }

  override blob(): Promise<Blob> {
    return this.#used ? Promise.reject(new TypeError("Body is unusable: the body has already been read")) : this.#materialize().blob();
  }

  override formData(): Promise<FormData> {
    return this.#used ? Promise.reject(new TypeError("Body is unusable: the body has already been read")) : this.#materialize().formData();
  }

  /** Newer runtimes' `bytes()`; older ones simply have no caller for it. */
  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#used) return Promise.reject(new TypeError("Body is unusable: the body has already been read"));
    return this.#materialize()
      .arrayBuffer()
      .then((buffer) => new Uint8Array(buffer));
  }

  override clone(): Response {
    if (this.bodyUsed) throw new TypeError("Response.clone: the body has already been read");
    if (this.#native !== undefined) return this.#native.clone();
    return new TextResponse(this.#text, this.status, new Headers(this.headers));
  }
}

const lazyBodies = nodeOwnResponse();

/**
 * A JSON `Response` for `text` (null: no body) with the given status and headers.
 *
 * @example
 * ```ts
 * const response = jsonResponse('{"ok":true}', 200, { "content-type": "application/json" });
 * ```
 */
export function jsonResponse(text: string | null, status: number, headers: Record<string, string>): Response {
  if (text === null || !lazyBodies) return new Response(text, { status, headers });
  return new TextResponse(text, status, headers);
}
