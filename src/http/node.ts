/**
 * Bridge from node:http (and Express, which hands the same objects to its
 * middleware) to a Fetch API handler. A handler built by `createFetchHandler`
 * or `createRegistrationHandler` is served directly: node's request is read as is and the answer written to
 * node's response, with no fetch `Request`, `Response` or body stream in
 * between (see `node-request.ts`). Any other fetch handler goes through
 * @hono/node-server's `getRequestListener`, imported on the first such
 * request. `oauth-client-registry/http` reaches this module only under the
 * "node" package condition (`#platform/node-bridge`), so a Worker bundle
 * holds neither it nor @hono/node-server, and loading `./http` on Node
 * does not load node:http either. Neither path replaces the global `Request` or `Response`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { callHandlerOf, type CallHandler } from "./call.js";
import type { NodeRequestListenerOptions } from "./node-types.js";
import { failure, failureAnswer, type Answer } from "./envelope.js";
import type { FetchHandler } from "./handler.js";
import { MalformedTargetError, nodeCall, type ExpressLikeRequest } from "./node-request.js";
import { findPathProblem, rawRequestPath } from "./path.js";

/** The bridge's listener, with node:http's own types (the public one is structural: node-types.ts). */
export type NodeRequestListener = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export type { NodeRequestListenerOptions };

type HonoListener = (incoming: IncomingMessage, outgoing: ServerResponse) => Promise<void>;

/**
 * Bytes of an unread or refused request body discarded after the answer so
 * that the connection can carry the next request; past this the connection
 * is closed instead.
 */
const MAX_DRAIN_BYTES = 1024 * 1024;

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
 * ```ts
 * import { createServer } from "node:http";
 * import { bearerTokenAuthorize, createFetchHandler, createNodeRequestListener } from "oauth-client-registry/http";
 *
 * const handler = createFetchHandler(registry, { authorize: bearerTokenAuthorize(process.env.API_TOKEN!) });
 * createServer(createNodeRequestListener(handler)).listen(8787, "127.0.0.1");
 * ```
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
  const hostname = options.hostname ?? "localhost";
  const direct = callHandlerOf(handler);
  let listener: Promise<HonoListener> | undefined;
  const load = () =>
    (listener ??= import("@hono/node-server").then(({ getRequestListener, RequestError }) =>
      getRequestListener((request) => handler(request), {
        hostname,
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
      if (unsafePath !== null) return write(response, failureAnswer("bad_request", [{ message: unsafePath }]), false);
      if (direct !== undefined) return await serveDirect(direct, incoming, response, hostname);
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

/** Serves a request with the handler's own entry point: no fetch Request or Response is built. */
async function serveDirect(handle: CallHandler, incoming: ExpressLikeRequest, response: ServerResponse, hostname: string): Promise<void> {
  let call;
  try {
    call = nodeCall(incoming, hostname);
  } catch (error) {
    if (!(error instanceof MalformedTargetError)) throw error;
    return write(response, failureAnswer("bad_request", [{ message: error.message }]), false);
  }
  const answer = await handle(call);
  write(response, answer, call.method === "HEAD");
  // What is left of a body that was refused (413) or only partly read is
  // read and dropped, so the connection can carry the next request.
  if (call.bodyTouched() && !incoming.readableEnded) drain(incoming);
}

/** Writes an answer (small JSON) to node's response, with its Content-Length. */
function write(response: ServerResponse, answer: Answer, head: boolean): void {
  const { headers } = answer;
  if (answer.body !== null) headers["content-length"] = String(Buffer.byteLength(answer.body));
  response.writeHead(answer.status, headers);
  if (head || answer.body === null) response.end();
  else response.end(answer.body);
}

/** Reads and drops the rest of a request body, up to {@link MAX_DRAIN_BYTES}; then closes the connection. */
function drain(incoming: IncomingMessage): void {
  let dropped = 0;
  const onData = (chunk: Buffer) => {
    dropped += chunk.byteLength;
    if (dropped > MAX_DRAIN_BYTES) {
      incoming.off("data", onData);
      incoming.socket?.destroy();
    }
  };
  incoming.on("data", onData);
  incoming.resume();
}
