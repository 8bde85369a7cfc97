/**
 * The storage contract. Adapters are dumb persistence: they keep records,
 * answer lookups, and refuse a write whose expected version is stale. Every
 * rule (validation, scopes, secrets, visibility) lives in the registry.
 */
import type { StoredClientFields } from "./fields.js";

/**
 * One stored client: the client fields plus the owning account, the secret
 * hashes and a version counter for compare-and-swap. Absent optional values
 * are `null`; timestamps are RFC 3339 UTC strings as produced by
 * `Date.prototype.toISOString()`, so they sort as strings.
 */
export interface StoredClient extends StoredClientFields {
  /** The owning account. */
  account_id: string;
  /** Hash of the current secret (format chosen by the hasher); null for "none" clients. */
  secret_hash: string | null;
  /** Hash of the previous secret during a rotation window, else null. */
  rotated_secret_hash: string | null;
  /** When the rotated secret was retired (the rotation time), else null. */
  rotated_at: string | null;
  /** Starts at 1 on insert; every successful update stores `version + 1`. */
  version: number;
}

/** Position after which a list page starts: the sort key of the last client seen. */
export interface ListPosition {
  created_at: string;
  client_id: string;
}

/** Arguments of {@link ClientStore.list}. */
export interface ListQuery {
  /** Maximum number of records to return (≥ 1). */
  limit: number;
  /** Return only records strictly after this position in the list order. */
  after?: ListPosition | null;
}

/**
 * The storage interface every adapter implements.
 *
 * Ordering: `list` returns an account's records sorted by `created_at`,
 * then `client_id`, ascending, and must cost O(log n + limit), not a scan.
 *
 * Isolation: `get`, `list`, `update` and `delete` only ever see records of
 * the given account. `client_id` is unique across all accounts.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "oauth-client-registry/memory";
 *
 * const store: ClientStore = createMemoryStore();
 * const ok = await store.insert(record); // false if client_id is taken
 * ```
 */
export interface ClientStore {
  /** The record with this id in this account, or null. */
  get(accountId: string, clientId: string): Promise<StoredClient | null>;
  /** The record with this id in any account, or null (token and authorize endpoints). */
  getById(clientId: string): Promise<StoredClient | null>;
  /** One page of an account's records in list order, after `query.after`. */
  list(accountId: string, query: ListQuery): Promise<StoredClient[]>;
  /** Stores a new record; resolves false (and stores nothing) if its client_id exists. */
  insert(record: StoredClient): Promise<boolean>;
  /**
   * Replaces the record whose account, id and version equal the arguments,
   * in one atomic step. `record.version` must be `expectedVersion + 1`.
   * Resolves false (and changes nothing) if the stored version differs or the
   * record is gone.
   */
  update(record: StoredClient, expectedVersion: number): Promise<boolean>;
  /**
   * Removes the record, in one atomic step; resolves false if it did not
   * exist in that account or, when `expectedVersion` is given, if its stored
   * version differs (conditional delete, HTTP `If-Match`).
   */
  delete(accountId: string, clientId: string, expectedVersion?: number): Promise<boolean>;
  /** Releases resources (connections, file handles). Optional. */
  close?(): Promise<void>;
}
