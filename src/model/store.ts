/**
 * The storage contract. Adapters are dumb persistence: they keep records,
 * answer lookups, and refuse a write whose expected version is stale. Every
 * rule (validation, scopes, secrets, visibility) lives in the registry.
 */
import type { StoredClientFields } from "../fields.js";

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
  /**
   * Records `claim.key` in `claim.scope` until `claim.expiresAtMs`, unless a
   * live (unexpired) record of it exists: the shared single-use and budget
   * state of several processes on one database (the `jti` of client
   * assertions, rate-limit windows). Optional: a store without it leaves
   * that state in each process. See {@link ClaimRequest} for the answers and
   * the per-owner budget; an adapter implementing it runs the `claims-*`
   * conformance cases.
   */
  claimOnce?(claim: ClaimRequest): Promise<ClaimResult>;
  /**
   * One page of the ids of the accounts that hold at least one client,
   * ascending, strictly after `query.after`: what a process that was not
   * told its accounts (the verification scheduler after a restart) walks to
   * find every account's clients. Order: by code point (UTF-8 byte order) on
   * the memory, SQLite and D1 stores and on MySQL/MariaDB's binary
   * collation; PostgreSQL uses the column's collation (byte order under
   * `C`/`C.UTF-8`), the order its index keeps, so that each page is a
   * bounded index scan. An account whose last client is deleted is no
   * longer listed. Optional: a store without it leaves callers to name
   * their accounts. A malformed query is a TypeError
   * ({@link assertAccountListQuery}); an adapter implementing it runs the
   * `accounts-*` conformance cases.
   *
   * @example
   * ```ts
   * import { createMemoryStore } from "oauth-client-registry/memory";
   *
   * const store = createMemoryStore();
   * let after: string | undefined;
   * for (;;) {
   *   const page = (await store.listAccounts?.({ after, limit: 100 })) ?? [];
   *   if (page.length === 0) break;
   *   after = page[page.length - 1];
   * }
   * ```
   */
  listAccounts?(query: AccountListQuery): Promise<string[]>;
  /** Releases resources (connections, file handles). Optional. */
  close?(): Promise<void>;
}

/**
 * Arguments of {@link ClientStore.claimOnce}.
 *
 * Answers: `"new"`, no live record of the key existed and now one does
 * (until `expiresAtMs`); `"seen"`, a live record exists (nothing changes);
 * `"over_budget"`, the key is new but `owner` already holds `maxPerOwner`
 * live keys in the scope, so nothing was recorded.
 *
 * The fairness rule of the replay cache (src/assertions/replay-cache.ts)
 * holds because a store keeps no bound across owners: an owner over its
 * budget is refused alone, an owner under it (under any floor, then) is
 * always admitted, and no live record is ever evicted to make room. The
 * table is bounded by the number of owners times their budget, and owners
 * are clients, which registration and the metadata-client cap bound.
 *
 * Concurrency: two calls with one key, from any processes, never both
 * answer `"new"` while the first record lives. Under a race near the
 * budget a store may refuse more than needed, never admit more.
 *
 * Expired records are deleted by later calls, a bounded batch at a time
 * ({@link CLAIM_CLEANUP_BATCH}), so the table never holds much more than
 * its live records.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "oauth-client-registry/memory";
 *
 * const store = createMemoryStore();
 * const nowMs = Date.now();
 * const claim = { scope: "jti", key: "3f1c…", expiresAtMs: nowMs + 60_000, nowMs, owner: "client-1", maxPerOwner: 1000 };
 * await store.claimOnce?.(claim); // "new"
 * await store.claimOnce?.(claim); // "seen"
 * ```
 */
export interface ClaimRequest {
  /** Namespace of the key: 1 to {@link MAX_CLAIM_SCOPE_LENGTH} letters, digits, `_`, `-`, `.` or `:`. */
  scope: string;
  /** The key, unique within its scope: 1 to {@link MAX_CLAIM_KEY_LENGTH} characters. */
  key: string;
  /** Until when the record lives, in ms since the epoch (a safe integer). */
  expiresAtMs: number;
  /** The caller's clock, in ms since the epoch: records expiring at or before it are absent. */
  nowMs: number;
  /** Whose key it is (a client id, a rate-limit bucket): 1 to {@link MAX_CLAIM_KEY_LENGTH} characters. */
  owner?: string;
  /** Most live keys `owner` may hold in this scope (a positive integer); needs `owner`. Default: no budget. */
  maxPerOwner?: number;
}

/** What {@link ClientStore.claimOnce} answers; see {@link ClaimRequest}. */
export type ClaimResult = "new" | "seen" | "over_budget";

/** Longest {@link ClaimRequest.scope}. */
export const MAX_CLAIM_SCOPE_LENGTH = 64;
/** Longest {@link ClaimRequest.key} and {@link ClaimRequest.owner} (a client id fits). */
export const MAX_CLAIM_KEY_LENGTH = 255;
/** Expired records one {@link ClientStore.claimOnce} call deletes at most. */
export const CLAIM_CLEANUP_BATCH = 16;

const CLAIM_SCOPE = /^[A-Za-z0-9_.:-]+$/;

/**
 * Why a {@link ClaimRequest} is not acceptable, or null. Adapters call it
 * first, so every store refuses the same requests (with a TypeError: a
 * malformed claim is a bug of the caller, not a storage failure).
 *
 * @example
 * ```ts
 * claimRequestProblem({ scope: "jti", key: "", expiresAtMs: 1, nowMs: 0 }); // "claim key must be 1 to 255 characters"
 * ```
 */
export function claimRequestProblem(claim: ClaimRequest): string | null {
  const { scope, key, expiresAtMs, nowMs, owner, maxPerOwner } = claim;
  if (typeof scope !== "string" || scope.length > MAX_CLAIM_SCOPE_LENGTH || !CLAIM_SCOPE.test(scope)) {
    return `claim scope must be 1 to ${MAX_CLAIM_SCOPE_LENGTH} letters, digits, _, -, . or :`;
  }
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_CLAIM_KEY_LENGTH) return `claim key must be 1 to ${MAX_CLAIM_KEY_LENGTH} characters`;
  if (!Number.isSafeInteger(expiresAtMs) || !Number.isSafeInteger(nowMs)) return "claim expiresAtMs and nowMs must be safe integers (ms since the epoch)";
  if (owner !== undefined && (typeof owner !== "string" || owner.length === 0 || owner.length > MAX_CLAIM_KEY_LENGTH)) {
    return `claim owner must be 1 to ${MAX_CLAIM_KEY_LENGTH} characters`;
  }
  if (maxPerOwner !== undefined && (owner === undefined || !Number.isSafeInteger(maxPerOwner) || maxPerOwner < 1)) {
    return "claim maxPerOwner must be a positive integer, with an owner";
  }
  return null;
}

/**
 * Throws a TypeError naming the problem of a malformed {@link ClaimRequest}.
 *
 * @example
 * ```ts
 * assertClaimRequest({ scope: "jti", key: "k", expiresAtMs: 2, nowMs: 1 }); // passes
 * ```
 */
export function assertClaimRequest(claim: ClaimRequest): void {
  const problem = claimRequestProblem(claim);
  if (problem !== null) throw new TypeError(problem);
}

/** Arguments of {@link ClientStore.listAccounts}. */
export interface AccountListQuery {
  /** Return only account ids strictly after this one in the store's order; from the first without it. */
  after?: string;
  /** Most account ids to return: an integer from 1 to {@link MAX_ACCOUNT_LIST_LIMIT}. */
  limit: number;
}

/** Largest {@link AccountListQuery.limit}: one page stays one bounded index scan. */
export const MAX_ACCOUNT_LIST_LIMIT = 1000;

/**
 * Throws a TypeError naming what is wrong with an {@link AccountListQuery}
 * (a limit that is not an integer from 1 to {@link MAX_ACCOUNT_LIST_LIMIT},
 * an `after` that is not a string). Adapters call it first, so every store
 * refuses the same queries: a malformed query is a bug of the caller, not a
 * storage failure.
 *
 * @example
 * ```ts
 * assertAccountListQuery({ limit: 100, after: "acct_1" }); // passes
 * assertAccountListQuery({ limit: 0 }); // throws TypeError
 * ```
 */
export function assertAccountListQuery(query: AccountListQuery): void {
  if (typeof query !== "object" || query === null) throw new TypeError("account list query must be an object");
  const { after, limit } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ACCOUNT_LIST_LIMIT) {
    throw new TypeError(`account list limit must be an integer from 1 to ${MAX_ACCOUNT_LIST_LIMIT}`);
  }
  if (after !== undefined && typeof after !== "string") throw new TypeError("account list after must be a string (an account id)");
}
