/**
 * Client lifecycle: when a client and each of its secrets was last used
 * (written at most once per interval, never failing the use itself),
 * listing with source and last-use filters in bounded scans, and purging
 * idle clients in bounded batches.
 */
import { ValidationError, type ValidationIssue } from "../model/errors.js";
import { CLIENT_SOURCES, type ClientSource, type OAuthClient } from "../fields.js";
import { decodeCursor, encodeCursor, pageSizeProblem } from "../model/ids.js";
import type { ClientPage, ListOptions, PurgeOptions, PurgeResult } from "./api.js";
import type { RegistryContext } from "./context.js";
import { storeCall } from "../model/storage-faults.js";
import type { ListPosition, StoredClient } from "../model/store.js";
import { parseRfc3339 } from "../model/time.js";

/** Which stored secret a use matched, if any (resolution without a secret: none). */
export type UsedSecret = "current" | "rotated" | null;

/** Default of `lastUsedWriteIntervalMs`: one hour. */
export const DEFAULT_LAST_USED_WRITE_INTERVAL_MS = 3_600_000;
/** Sources `purgeClients` deletes unless told otherwise: the clients nobody created by hand. */
export const DEFAULT_PURGE_SOURCES: readonly ClientSource[] = ["dcr", "cimd"];
/** Most clients one purge call deletes. */
export const MAX_PURGE_BATCH = 100;

const SECRET_USE_FIELD = { current: "secret_last_used_at", rotated: "rotated_secret_last_used_at" } as const;

/** The lifecycle operations of one registry. */
export interface Lifecycle {
  /**
   * Records a use of `record` (and of the secret that matched) when the
   * stored time is older than the write interval; returns the record as it
   * now is. One compare-and-swap attempt: a lost race or a failing store
   * leaves the record as it was, and never throws.
   */
  recordUse(record: StoredClient, secret: UsedSecret, nowMs?: number): Promise<StoredClient>;
  /** One page of an account's clients, filtered, scanning at most `limits.maxFilterScan` records. */
  list(accountId: string, options: ListOptions): Promise<ClientPage>;
  /** Deletes one bounded batch of idle clients. */
  purge(accountId: string, options: PurgeOptions): Promise<PurgeResult>;
}

/**
 * Creates the lifecycle operations of a registry.
 *
 * @example
 * ```ts
 * declare const context: Parameters<typeof createLifecycle>[0];
 * const lifecycle = createLifecycle(context, { lastUsedWriteIntervalMs: 3_600_000 });
 * // last_used_at and secret_last_used_at written when unset or at least an hour old; else `record` as it is
 * const used = await lifecycle.recordUse(record, "current");
 * ```
 */
export function createLifecycle(context: RegistryContext, options: { lastUsedWriteIntervalMs?: number }): Lifecycle {
  const { store, limits } = context;
  const interval = options.lastUsedWriteIntervalMs ?? DEFAULT_LAST_USED_WRITE_INTERVAL_MS;
  if (!(Number.isFinite(interval) && interval >= 0)) {
    throw new TypeError("lastUsedWriteIntervalMs must be a non-negative number of milliseconds");
  }

  // A time that is null (never written) or at least `interval` old is stale.
  const stale = (stored: string | null, nowMs: number) => stored === null || nowMs - Date.parse(stored) >= interval;

  async function recordUse(record: StoredClient, secret: UsedSecret, nowMs = context.now().getTime()): Promise<StoredClient> {
    const secretField = secret === null ? null : SECRET_USE_FIELD[secret];
    if (!stale(record.last_used_at, nowMs) && (secretField === null || !stale(record[secretField], nowMs))) return record;
    const time = new Date(nowMs).toISOString();
    const next: StoredClient = { ...record, last_used_at: time, version: record.version + 1 };
    if (secretField !== null) next[secretField] = time;
    try {
      // One attempt: whoever won the race recorded a use just as recent.
      return (await store.update(next, record.version)) ? next : record;
    } catch {
      // A use that cannot be recorded is still a use: the caller's answer does not change.
      return record;
    }
  }

  async function list(accountId: string, listOptions: ListOptions): Promise<ClientPage> {
    context.assertAccountId(accountId);
    const issues: ValidationIssue[] = [];
    const limit = listOptions.limit ?? limits.defaultPageSize;
    const sizeProblem = pageSizeProblem(limit, limits.maxPageSize);
    if (sizeProblem !== null) issues.push({ path: "/limit", message: `limit ${sizeProblem}` });
    const after = cursorPosition(listOptions.cursor, issues);
    const filter = listFilter(listOptions, issues);
    if (issues.length > 0) throw new ValidationError(issues);
    if (filter === null) {
      const rows = await storeCall(() => store.list(accountId, { limit: limit + 1, after }));
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { clients: page.map(context.toWire), next_cursor: rows.length > limit && last ? encodeCursor(last) : null };
    }
    const clients: OAuthClient[] = [];
    const next = await scan(accountId, after, (record) => {
      if (filter(record)) clients.push(context.toWire(record));
      return clients.length < limit;
    });
    return { clients, next_cursor: next };
  }

  /**
   * Reads an account's records in list order from `after`, calling `visit`
   * on each until it returns false or `limits.maxFilterScan` records were
   * read. Returns the cursor to continue from, or null at the end of the list.
   */
  async function scan(
    accountId: string,
    after: ListPosition | null,
    visit: (record: StoredClient) => boolean | Promise<boolean>,
  ): Promise<string | null> {
    let position = after;
    let budget = limits.maxFilterScan;
    while (budget > 0) {
      const batchSize = Math.min(budget, limits.maxPageSize);
      // One more than needed tells whether the list goes on past this batch.
      const rows = await storeCall(() => store.list(accountId, { limit: batchSize + 1, after: position }));
      const batch = rows.slice(0, batchSize);
      for (const [index, record] of batch.entries()) {
        budget--;
        position = { created_at: record.created_at, client_id: record.client_id };
        const more = index < batch.length - 1 || rows.length > batchSize;
        if (!(await visit(record))) return more ? encodeCursor(position) : null;
      }
      if (rows.length <= batchSize) return null;
    }
    return position === null ? null : encodeCursor(position);
  }

  async function purge(accountId: string, purgeOptions: PurgeOptions): Promise<PurgeResult> {
    context.assertAccountId(accountId);
    const issues: ValidationIssue[] = [];
    const { idleForMs } = purgeOptions ?? ({} as PurgeOptions);
    if (typeof idleForMs !== "number" || !Number.isFinite(idleForMs) || idleForMs < 0) {
      issues.push({ path: "/idleForMs", message: "idleForMs must be a non-negative number of milliseconds" });
    }
    const limit = purgeOptions?.limit ?? MAX_PURGE_BATCH;
    const sizeProblem = pageSizeProblem(limit, MAX_PURGE_BATCH);
    if (sizeProblem !== null) issues.push({ path: "/limit", message: `limit ${sizeProblem}` });
    // Both self-made sources: a metadata-document client purged while idle is stored again from its document on next use.
    const sources = sourceSet(purgeOptions?.sources ?? DEFAULT_PURGE_SOURCES, "/sources", issues);
    const after = cursorPosition(purgeOptions?.cursor, issues);
    const dryRun = purgeOptions?.dryRun;
    if (dryRun !== undefined && typeof dryRun !== "boolean") issues.push({ path: "/dryRun", message: "dryRun must be a boolean" });
    if (issues.length > 0) throw new ValidationError(issues);
    const cutoff = context.now().getTime() - idleForMs;
    const deleted: string[] = [];
    const clients: OAuthClient[] = [];
    const next = await scan(accountId, after, async (record) => {
      if (!sources!.has(record.source) || Date.parse(record.last_used_at ?? record.created_at) >= cutoff) return true;
      if (dryRun === true) {
        // The same selection as a real batch, so a preview lists exactly what a purge with these options would delete.
        deleted.push(record.client_id);
        clients.push(context.toWire(record));
        return deleted.length < limit;
      }
      // Conditional on the version read: a client used (or changed) since is kept.
      if (await storeCall(() => store.delete(accountId, record.client_id, record.version))) {
        deleted.push(record.client_id);
        context.emit({ type: "client.deleted", account_id: accountId, client_id: record.client_id, at: context.timestamp(), reason: "purged" });
      }
      return deleted.length < limit;
    });
    return dryRun === true ? { deleted, next_cursor: next, clients } : { deleted, next_cursor: next };
  }

  return { recordUse, list, purge };
}

function cursorPosition(cursor: unknown, issues: ValidationIssue[]): ListPosition | null {
  if (cursor === undefined || cursor === null || cursor === "") return null;
  const position = decodeCursor(cursor);
  if (!position) issues.push({ path: "/cursor", message: "cursor is malformed: pass next_cursor of a previous page unchanged" });
  return position;
}

function sourceSet(value: unknown, path: string, issues: ValidationIssue[]): Set<string> | null {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const unknown = list.filter((source) => !(CLIENT_SOURCES as readonly unknown[]).includes(source));
  if (unknown.length > 0 || list.length === 0) {
    issues.push({ path, message: `must be one or more of ${CLIENT_SOURCES.join(", ")}` });
    return null;
  }
  return new Set(list as ClientSource[]);
}

/** The filter of list options, or null when none is set (the plain, unscanned listing). */
function listFilter(options: ListOptions, issues: ValidationIssue[]): ((record: StoredClient) => boolean) | null {
  const { source, usedBefore, neverUsed } = options;
  if (source === undefined && usedBefore === undefined && neverUsed === undefined) return null;
  const sources = source === undefined ? null : sourceSet(source, "/source", issues);
  let before = Number.NaN;
  if (usedBefore !== undefined) {
    before = typeof usedBefore === "string" ? parseRfc3339(usedBefore) : Number.NaN;
    if (Number.isNaN(before)) issues.push({ path: "/usedBefore", message: "usedBefore must be an RFC 3339 date-time" });
  }
  if (neverUsed !== undefined && typeof neverUsed !== "boolean") issues.push({ path: "/neverUsed", message: "neverUsed must be a boolean" });
  return (record) => {
    if (sources !== null && !sources.has(record.source)) return false;
    if (neverUsed !== undefined && (record.last_used_at === null) !== neverUsed) return false;
    if (usedBefore !== undefined && record.last_used_at !== null && Date.parse(record.last_used_at) >= before) return false;
    return true;
  };
}
