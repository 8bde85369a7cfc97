/** DNS TXT on Node (and Bun and Deno): the system resolver through node:dns. */
import { resolveTxt } from "node:dns/promises";
import type { ResolveTxt } from "./types.js";

/** What `#platform/dns` gives on Node: `resolveTxt` of node:dns/promises. */
export const platformResolveTxt: ResolveTxt = (hostname) => resolveTxt(hostname);
