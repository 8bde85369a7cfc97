/**
 * The stored version behind each client object the registry hands out, kept
 * beside the object rather than in it, so the wire format stays the one
 * documented. The HTTP layer turns it into an `ETag`.
 */
import type { OAuthClient } from "../fields.js";

const versions = new WeakMap<object, number>();

/** Records the version of a client object built from a stored record. */
export function tagVersion<T extends object>(client: T, version: number): T {
  versions.set(client, version);
  return client;
}

/**
 * The stored version of a client object returned by the registry (`get`,
 * `list`, `create`, `update`, `findClient`, `authenticate`, …), for a later
 * conditional write; `undefined` for any other object (a copy included).
 *
 * @example
 * ```ts
 * const client = await registry.get("acct", "0123456789abcdef0123456789abcdef");
 * await registry.update("acct", client.client_id, { client_name: "New" }, { expectedVersion: clientVersion(client) });
 * ```
 */
export function clientVersion(client: OAuthClient): number | undefined {
  return versions.get(client);
}

/** Whether `version` satisfies an expectation (absent: anything does). */
export function versionMatches(version: number, expected: number | readonly number[] | undefined): boolean {
  if (expected === undefined) return true;
  return typeof expected === "number" ? version === expected : expected.includes(version);
}
