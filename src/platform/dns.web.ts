/** DNS TXT outside Node: DNS over HTTPS through the platform's `fetch`. */
import { createDohResolveTxt } from "./doh.js";
import type { ResolveTxt } from "./types.js";

/** What `#platform/dns` gives outside Node: TXT over DNS over HTTPS (Cloudflare's resolver). */
export const platformResolveTxt: ResolveTxt = createDohResolveTxt();
