/**
 * client_uri verification: the owner proves control of the client_uri host
 * by publishing a DNS TXT record whose value is the verification text.
 */

export type { ResolveTxt } from "../platform/types.js";
import type { ResolveTxt } from "../platform/types.js";

interface NodeDnsModule {
  promises: { resolveTxt: ResolveTxt };
}

/**
 * Resolves TXT records with node:dns, asked for by name at the call (never
 * imported, so the module loads, and bundles, where node:dns does not
 * exist). The registry's default is `#platform/dns`: node:dns on Node, DNS
 * over HTTPS elsewhere.
 *
 * @example
 * ```ts
 * const records = await resolveTxtWithNodeDns("example.com"); // [["v=spf1 …"], …]
 * ```
 */
export const resolveTxtWithNodeDns: ResolveTxt = async (hostname) => {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const dns = host?.getBuiltinModule?.("node:dns") as NodeDnsModule | undefined;
  if (dns === undefined) throw new Error("resolveTxtWithNodeDns: this runtime has no node:dns; use createDohResolveTxt");
  return dns.promises.resolveTxt(hostname);
};

/**
 * Whether any TXT record of `hostname` equals `expected` (chunks of one
 * record are joined, surrounding whitespace ignored). A lookup failure
 * (no such host, no TXT records, timeout) counts as not found.
 *
 * @example
 * ```ts
 * await hasTxtRecord(resolveTxtWithNodeDns, "example.com", "oauth-client-verification=abc") // false
 * ```
 */
export async function hasTxtRecord(resolve: ResolveTxt, hostname: string, expected: string): Promise<boolean> {
  let records: unknown;
  try {
    records = await resolve(hostname);
  } catch {
    return false;
  }
  if (!Array.isArray(records)) return false;
  return records.some((chunks) => {
    const value = Array.isArray(chunks) ? chunks.join("") : String(chunks);
    return value.trim() === expected;
  });
}
