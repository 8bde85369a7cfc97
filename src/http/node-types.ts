/**
 * The public types of the node:http bridge, written structurally so that
 * `oauth-client-registry/http` type-checks without @types/node (in a Worker
 * project, say). node:http's `IncomingMessage` and `ServerResponse`, and
 * Express's `req` and `res`, fit them; the bridge reads the real objects.
 */

/** node:http's `IncomingMessage` (or Express's `req`), as far as a listener's signature needs it. */
export interface NodeIncomingMessage {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** node:http's `ServerResponse` (or Express's `res`), as far as a listener's signature needs it. */
export interface NodeServerResponse {
  readonly headersSent: boolean;
  writeHead(...args: never[]): unknown;
  end(...args: never[]): unknown;
}

/** A node:http request listener that is also usable as Express middleware. */
export type NodeRequestListener = (request: NodeIncomingMessage, response: NodeServerResponse) => Promise<void>;

/** Options of `createNodeRequestListener`. */
export interface NodeRequestListenerOptions {
  /** Host used to build the request URL when the client sent no Host header. Default `"localhost"`. */
  hostname?: string;
  /** Called when the handler itself throws (a handler from createFetchHandler never does). Default `console.error`. */
  onError?: (error: unknown) => void;
}
