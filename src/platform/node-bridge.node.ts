/**
 * The node:http bridge under the "node" condition: the implementation in
 * http/node.ts (which loads @hono/node-server only on first use).
 */
export { createNodeRequestListener } from "../http/node.js";
