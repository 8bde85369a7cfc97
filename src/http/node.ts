/**
 * Bridge from node:http (and Express, which hands the same objects to its
 * middleware) to any Fetch API handler, built on @hono/node-server's
 * `getRequestListener`. The adapter is imported on the first request, so
 * importing this package in Workers, Deno or Bun never touches node:http.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { failure } from "./envelope.js";
import type { FetchHandler } from "./handler.js";
import { findPathProblem, rawRequestPath } from "./path.js";

/** A node:http request listener that is also usable as Express middleware. */
export type NodeRequestListener = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

/** Options of {@link createNodeRequestListener}. */
export interface NodeRequestListenerOptions {
  /** Host used to build the request URL when the client sent no Host header. Default `"localhost"`. */
  hostname?: string;
  /** Called when the handler itself throws (a handler from createFetchHandler never does). Default `console.error`. */
  onError?: (error: unknown) => void;
}

type HonoListener = (incoming: IncomingMessage, outgoing: ServerResponse) => Promise<void>;

/** What Express adds to a request: the URL before mount-path stripping, and a parsed body. */
interface ExpressLikeRequest extends IncomingMessage {
  originalUrl?: string;
  body?: unknown;
  rawBody?: Buffer;
}

/**
 * Wraps a fetch handler as a node:http listener.
 *
 * Under Express the handler sees the full original URL (`req.originalUrl`),
 * so `app.use("/client/v4", listener)` and `app.use(listener)` both route
 * against the handler's own `basePath`. A body already consumed by a body
 * parser (`express.json()`) is re-serialized from `req.body`.
 *
 * The raw request target is checked before it becomes a `Request` (whose URL
 * parser would silently resolve `..` and `%2e%2e`): a dot segment or an
 * encoded slash or backslash anywhere in the path answers 400 `bad_request`.
 *
 * @example
 * import { createServer } from "node:http";
 * import { createFetchHandler, createNodeRequestListener } from "oauth-client-registry/http";
 *
 * const handler = createFetchHandler(registry, { authorize });
 * createServer(createNodeRequestListener(handler)).listen(8787, "127.0.0.1");
 */
export function createNodeRequestListener(
  handler: FetchHandler,
  options: NodeRequestListenerOptions = {},
): NodeRequestListener {
  const report = (error: unknown) => {
    try {
      (options.onError ?? ((e: unknown) => console.error("oauth-client-registry: request failed", e)))(error);
    } catch {
      // A failing logger must not break the response.
    }
  };
  let listener: Promise<HonoListener> | undefined;
  const load = () =>
    (listener ??= import("@hono/node-server").then(({ getRequestListener, RequestError }) =>
      getRequestListener((request) => handler(request), {
        hostname: options.hostname ?? "localhost",
        // Leave the host application's global Request/Response untouched.
        overrideGlobalObjects: false,
        errorHandler: (error) => {
          if (error instanceof RequestError) return failure("bad_request", [{ message: "malformed request line or Host header" }]);
          report(error);
          return failure("internal_error", [{ message: "internal server error" }]);
        },
      }),
    ));

  return async (request, response) => {
    const incoming = request as ExpressLikeRequest;
    if (typeof incoming.originalUrl === "string") incoming.url = incoming.originalUrl;
    if (incoming.readableDidRead && incoming.rawBody === undefined && incoming.body !== undefined) {
      incoming.rawBody = Buffer.isBuffer(incoming.body)
        ? incoming.body
        : Buffer.from(typeof incoming.body === "string" ? incoming.body : JSON.stringify(incoming.body));
    }
    try {
      const unsafePath = findPathProblem(rawRequestPath(incoming.url ?? "/"));
      if (unsafePath !== null) return await send(response, failure("bad_request", [{ message: unsafePath }]));
      await (await load())(incoming, response);
    } catch (error) {
      report(error);
      // Only reachable if the adapter itself fails to load or write.
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        response.end(JSON.stringify({ success: false, errors: [{ code: 1500, message: "internal server error" }], messages: [], result: null }));
      } else response.destroy(error instanceof Error ? error : undefined);
    }
  };
}

/** Writes a fetch Response built in this module (small, JSON) to a node response. */
async function send(response: ServerResponse, answer: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  const headers: Record<string, string | number> = Object.fromEntries(answer.headers);
  headers["content-length"] = body.byteLength;
  response.writeHead(answer.status, headers);
  response.end(body);
}
