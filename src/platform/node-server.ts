/** The part of @hono/node-server the node:http bridge uses, written structurally. */

/** A request listener as @hono/node-server builds it; node:http's objects stay opaque below the bridge. */
export type NodeServerListener = (incoming: unknown, outgoing: unknown) => Promise<void>;

/** `getRequestListener` and `RequestError` of @hono/node-server. */
export interface NodeServerModule {
  getRequestListener(
    fetch: (request: Request) => Response | Promise<Response>,
    options: { hostname?: string; overrideGlobalObjects?: boolean; errorHandler?: (error: unknown) => Response | Promise<Response> },
  ): NodeServerListener;
  RequestError: abstract new (...args: never[]) => Error;
}
