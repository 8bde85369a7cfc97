/**
 * client_uri verification: the owner proves control of the client_uri host
 * by publishing a DNS TXT record whose value is the verification text.
 */

/** Same shape as `resolveTxt` from `node:dns/promises`: one string[] of chunks per record. */
export type ResolveTxt = (hostname: string) => Promise<string[][]>;

/**
 * Resolves TXT records with `node:dns/promises`. Loaded on first use, so
 * runtimes without `node:dns` can inject their own resolver instead.
 *
 * @example
 * ```ts
 * const records = await resolveTxtWithNodeDns("example.com"); // [["v=spf1 …"], …]
 * ```
 */
export const resolveTxtWithNodeDns: ResolveTxt = async (hostname) => {
  const dns = await import("node:dns/promises");
  return dns.resolveTxt(hostname);
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
