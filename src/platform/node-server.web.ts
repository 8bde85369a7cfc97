/** Outside Node there is no node:http to bridge from; the bridge says so if it is ever called. */
import type { NodeServerModule } from "./node-server.js";

/** Refuses: the node:http bridge needs the "node" package condition. */
export const loadNodeServer = (): Promise<NodeServerModule> =>
  Promise.reject(new Error("createNodeRequestListener needs node:http; this runtime loaded the package without the \"node\" condition"));
