/**
 * In-memory store for tests, demos and single-process prototypes.
 *
 * Records are copied once on the way in and stored deep-frozen; reads hand
 * out the stored objects themselves, without a copy. Callers can never
 * change stored state by mutating an object they hold: what they passed in
 * was copied, and what they received cannot be changed (in strict-mode code,
 * which every ES module is, an attempt throws a TypeError).
 */
import { assertAccountListQuery, type ClientStore, type ListQuery, type StoredClient } from "../src/model/store.js";
import { createMemoryClaims } from "./memory-claims.js";
import { compareListOrder, OrderedIndex } from "./ordered-index.js";

/**
 * Code point order (the UTF-8 byte order of the SQL stores), where `<`
 * compares UTF-16 code units: the two differ only when the first differing
 * units are a surrogate and a unit in U+E000–U+FFFF. Moving surrogates above
 * that range at the first difference gives code point order.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const rank = (unit: number) => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);
    return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** Index of the first id in the sorted `ids` that is not before `id` (code point order). */
function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareCodePoints(ids[mid]!, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  for (const item of Object.values(value)) deepFreeze(item);
  Object.freeze(value);
}

/**
 * The stored form of a record: a deep-frozen copy made through JSON, as the
 * SQL stores keep records (a value JSON cannot hold, such as a Date, reads
 * back as JSON gives it, on every store alike). JSON.parse also builds the
 * most compact objects V8 has (about 920 heap bytes for a typical client,
 * against 2,300 for a copy built key by key) and flat strings, which compare
 * several times faster than the ropes generated ids are built as.
 */
function storedCopy(record: StoredClient): StoredClient {
  const copy = JSON.parse(JSON.stringify(record)) as StoredClient;
  deepFreeze(copy);
  return copy;
}

/**
 * Creates an empty in-memory store. Each account keeps its records in a B+
 * tree in list order, so listing costs O(log n + page size) and insert,
 * update and delete O(log n), in any order of arrival.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 * const registry = createOAuthClientRegistry(createMemoryStore());
 * ```
 */
export function createMemoryStore(): ClientStore {
  const byId = new Map<string, StoredClient>();
  const byAccount = new Map<string, OrderedIndex<StoredClient>>();
  // The keys of byAccount in code point order, for listAccounts: an account
  // is added or removed only when it gains its first or loses its last client.
  const accountIds: string[] = [];

  function indexOf(accountId: string): OrderedIndex<StoredClient> {
    let index = byAccount.get(accountId);
    if (!index) {
      byAccount.set(accountId, (index = new OrderedIndex()));
      accountIds.splice(lowerBound(accountIds, accountId), 0, accountId);
    }
    return index;
  }

  function unindex(record: StoredClient): void {
    const index = byAccount.get(record.account_id);
    if (!index) return;
    index.delete(record);
    if (index.size === 0) {
      byAccount.delete(record.account_id);
      accountIds.splice(lowerBound(accountIds, record.account_id), 1);
    }
  }

  return {
    claimOnce: createMemoryClaims(),
    async get(accountId, clientId) {
      const record = byId.get(clientId);
      return record && record.account_id === accountId ? record : null;
    },
    async getById(clientId) {
      return byId.get(clientId) ?? null;
    },
    async list(accountId, query: ListQuery) {
      return byAccount.get(accountId)?.page(query.after, query.limit) ?? [];
    },
    async listAccounts(query) {
      assertAccountListQuery(query);
      const { after, limit } = query;
      let from = 0;
      if (after !== undefined) {
        from = lowerBound(accountIds, after);
        if (accountIds[from] === after) from++;
      }
      return accountIds.slice(from, from + limit);
    },
    async insert(record) {
      if (byId.has(record.client_id)) return false;
      const stored = storedCopy(record);
      byId.set(stored.client_id, stored);
      indexOf(stored.account_id).insert(stored);
      return true;
    },
    async update(record, expectedVersion) {
      const current = byId.get(record.client_id);
      if (!current || current.account_id !== record.account_id || current.version !== expectedVersion) return false;
      const stored = storedCopy(record);
      if (compareListOrder(current, stored) === 0) {
        indexOf(stored.account_id).replace(stored, current);
      } else {
        unindex(current);
        indexOf(stored.account_id).insert(stored);
      }
      byId.set(stored.client_id, stored);
      return true;
    },
    async delete(accountId, clientId, expectedVersion) {
      const current = byId.get(clientId);
      if (!current || current.account_id !== accountId) return false;
      if (expectedVersion !== undefined && current.version !== expectedVersion) return false;
      byId.delete(clientId);
      unindex(current);
      return true;
    },
  };
}
