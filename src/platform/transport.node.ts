/**
 * Outbound JSON fetches on Node (and Bun and Deno): the pinned-socket
 * fetcher of src/platform/pinned-fetch.node.ts, which resolves the host itself, refuses
 * any non-public answer and connects only to the addresses it checked.
 */
import { createSafeFetcher } from "./pinned-fetch.node.js";
import type { SafeFetcher } from "./transport.js";

/** What `#platform/transport` gives on Node: the pinned-socket fetcher with its default bounds. */
export function createDefaultFetcher(): SafeFetcher {
  return createSafeFetcher();
}

/** How the default transport reaches the network: its own DNS lookup and sockets pinned to checked addresses. */
export const DEFAULT_TRANSPORT = "pinned-sockets" as const;
