/**
 * Entity tags of clients (RFC 9110 §8.8.3) and the `If-Match` precondition
 * (§13.1.1). A client's tag is its stored version, so a conditional write
 * succeeds only against the version the caller read.
 */

/**
 * The ETag of a client at `version`.
 *
 * @example
 * ```ts
 * clientEtag(3); // "\"v3\""
 * ```
 */
export function clientEtag(version: number): string {
  return `"v${version}"`;
}

/** What an `If-Match` header asks for. */
export type IfMatch =
  | { kind: "absent" }
  /** `*`: any current version (the client must exist, as every conditional route requires anyway). */
  | { kind: "any" }
  /** Versions named by strong tags this server issued; empty when none could ever match. */
  | { kind: "versions"; versions: number[] };

const MAX_TAGS = 32;

/**
 * Parses `If-Match`. Weak tags never match (the comparison is strong), and
 * neither do tags this server did not issue; so a header naming only such
 * tags fails the precondition.
 *
 * @example
 * ```ts
 * parseIfMatch('"v3", "v4"'); // { kind: "versions", versions: [3, 4] }
 * ```
 */
export function parseIfMatch(header: string | null): IfMatch {
  if (header === null) return { kind: "absent" };
  const value = header.trim();
  if (value === "*") return { kind: "any" };
  const versions: number[] = [];
  for (const raw of value.split(",").slice(0, MAX_TAGS)) {
    const match = /^"v([1-9][0-9]{0,14})"$/.exec(raw.trim());
    if (match) versions.push(Number(match[1]));
  }
  return { kind: "versions", versions };
}
