/**
 * The node:http bridge's fallback for fetch handlers not built by
 * createFetchHandler: @hono/node-server, loaded on first use. Only under the
 * "node" condition, so a Worker bundle never contains @hono/node-server or
 * the node:http it imports.
 */
import type { NodeServerModule } from "./node-server.js";

/** Loads @hono/node-server. */
export const loadNodeServer = (): Promise<NodeServerModule> => import("@hono/node-server") as unknown as Promise<NodeServerModule>;
