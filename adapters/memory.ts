/**
 * In-memory store for tests, demos and single-process prototypes. Records
 * are copied on the way in and out, so callers can never change stored
 * state by mutating an object they hold.
 */
import type { ClientStore, ListPosition, ListQuery, StoredClient } from "../src/store.js";

function compareKeys(a: ListPosition, b: ListPosition): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  if (a.client_id === b.client_id) return 0;
  return a.client_id < b.client_id ? -1 : 1;
}

/** First index in `keys` whose key is strictly after `position`. */
function upperBound(keys: readonly ListPosition[], position: ListPosition): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, position) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Creates an empty in-memory store. Listing costs O(log n + page size):
 * each account keeps its keys sorted in list order.
 *
 * @example
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 * const registry = createOAuthClientRegistry(createMemoryStore());
 */
export function createMemoryStore(): ClientStore {
  const byId = new Map<string, StoredClient>();
  const keysByAccount = new Map<string, ListPosition[]>();

  const keyOf = (r: StoredClient): ListPosition => ({ created_at: r.created_at, client_id: r.client_id });

  function removeKey(record: StoredClient): void {
    const keys = keysByAccount.get(record.account_id);
    if (!keys) return;
    const at = upperBound(keys, keyOf(record)) - 1;
    if (at >= 0 && compareKeys(keys[at]!, keyOf(record)) === 0) keys.splice(at, 1);
    if (keys.length === 0) keysByAccount.delete(record.account_id);
  }

  function addKey(record: StoredClient): void {
    let keys = keysByAccount.get(record.account_id);
    if (!keys) keysByAccount.set(record.account_id, (keys = []));
    keys.splice(upperBound(keys, keyOf(record)), 0, keyOf(record));
  }

  return {
    async get(accountId, clientId) {
      const record = byId.get(clientId);
      return record && record.account_id === accountId ? structuredClone(record) : null;
    },
    async getById(clientId) {
      const record = byId.get(clientId);
      return record ? structuredClone(record) : null;
    },
    async list(accountId, query: ListQuery) {
      const keys = keysByAccount.get(accountId) ?? [];
      const start = query.after ? upperBound(keys, query.after) : 0;
      return keys.slice(start, start + query.limit).map((k) => structuredClone(byId.get(k.client_id)!));
    },
    async insert(record) {
      if (byId.has(record.client_id)) return false;
      const copy = structuredClone(record);
      byId.set(copy.client_id, copy);
      addKey(copy);
      return true;
    },
    async update(record, expectedVersion) {
      const current = byId.get(record.client_id);
      if (!current || current.account_id !== record.account_id || current.version !== expectedVersion) return false;
      const copy = structuredClone(record);
      if (compareKeys(keyOf(current), keyOf(copy)) !== 0) {
        removeKey(current);
        addKey(copy);
      }
      byId.set(copy.client_id, copy);
      return true;
    },
    async delete(accountId, clientId, expectedVersion) {
      const current = byId.get(clientId);
      if (!current || current.account_id !== accountId) return false;
      if (expectedVersion !== undefined && current.version !== expectedVersion) return false;
      byId.delete(clientId);
      removeKey(current);
      return true;
    },
  };
}
