/**
 * The node:http bridge as `oauth-client-registry/http` exports it: the same
 * name on every runtime, its implementation chosen by package condition
 * (`#platform/node-bridge`: http/node.ts under "node", a function that
 * refuses elsewhere), and types that need no @types/node.
 */
import { createNodeRequestListener as implementation } from "#platform/node-bridge";
import type { FetchHandler } from "./handler.js";
import type { NodeRequestListener, NodeRequestListenerOptions } from "./node-types.js";

/**
 * Wraps a fetch handler as a node:http listener, also usable as Express
 * middleware. Under Express the handler sees the full original URL
 * (`req.originalUrl`); a body already consumed by a body parser is
 * re-serialized from `req.body`; a dot segment or an encoded slash in the
 * raw path answers 400 `bad_request`. @hono/node-server is loaded only for
 * handlers not built by `createFetchHandler` or `createRegistrationHandler`,
 * on their first request.
 * Outside Node (no "node" package condition) it throws when called.
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
export const createNodeRequestListener: (handler: FetchHandler, options?: NodeRequestListenerOptions) => NodeRequestListener =
  // The implementation is typed with node:http's classes; its callers hand it those very objects.
  implementation as unknown as (handler: FetchHandler, options?: NodeRequestListenerOptions) => NodeRequestListener;
