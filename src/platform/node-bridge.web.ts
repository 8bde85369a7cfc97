/**
 * The node:http bridge where the "node" condition does not apply: there is
 * no node:http to bridge from, so the function exists (the export names of
 * `./http` are the same everywhere) and says so when called.
 */
import type { NodeRequestListener } from "../http/node-types.js";

/** Refuses: serving node:http needs a runtime that matches the "node" package condition. */
export function createNodeRequestListener(): NodeRequestListener {
  throw new Error('createNodeRequestListener needs node:http: this runtime loaded oauth-client-registry without the "node" package condition');
}
