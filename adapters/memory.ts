/**
 * In-memory store for tests, demos and single-process prototypes.
 *
 * Records are copied once on the way in and stored deep-frozen; reads hand
 * out the stored objects themselves, without a copy. Callers can never
 * change stored state by mutating an object they hold: what they passed in
 * was copied, and what they received cannot be changed (in strict-mode code,
 * which every ES module is, an attempt throws a TypeError).
 */
import type { ClientStore, ListQuery, StoredClient } from "../src/store.js";
import { compareListOrder, OrderedIndex } from "./ordered-index.js";

/** Records holding a value that freezing cannot protect; these are copied on every read instead. */
type Unfreezable = WeakSet<object>;

/**
 * A deep copy of a record with every array and plain object frozen. Records
 * are JSON data (the SQL stores keep them as JSON text); any other object
 * (a Date, a typed array) is copied with structuredClone and the record is
 * marked so that reads copy it.
 */
function frozenCopy(record: StoredClient, unfreezable: Unfreezable): StoredClient {
  let exotic = false;
  const copy = (value: unknown): unknown => {
    if (typeof value === "string") {
      // V8 keeps a string built piece by piece (as generated ids are) as a
      // rope, and compares a rope several times slower than a flat string,
      // on every lookup and every step of the index's binary searches.
      // Reading a character flattens it in place, once.
      value.charCodeAt(0);
      return value;
    }
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) return Object.freeze(value.map(copy));
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      exotic = true;
      return structuredClone(value);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // An own "__proto__" key stays a key instead of replacing the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value: copy(item), enumerable: true, writable: true, configurable: true });
      else out[key] = copy(item);
    }
    return Object.freeze(out);
  };
  const stored = copy(record) as StoredClient;
  if (exotic) unfreezable.add(stored);
  return stored;
}

/**
 * Creates an empty in-memory store. Each account keeps its records in a B+
 * tree in list order, so listing costs O(log n + page size) and insert,
 * update and delete O(log n), in any order of arrival.
 *
 * @example
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 * const registry = createOAuthClientRegistry(createMemoryStore());
 */
export function createMemoryStore(): ClientStore {
  const byId = new Map<string, StoredClient>();
  const byAccount = new Map<string, OrderedIndex<StoredClient>>();
  const unfreezable: Unfreezable = new WeakSet();

  const handOut = (record: StoredClient): StoredClient => (unfreezable.has(record) ? structuredClone(record) : record);

  function indexOf(accountId: string): OrderedIndex<StoredClient> {
    let index = byAccount.get(accountId);
    if (!index) byAccount.set(accountId, (index = new OrderedIndex()));
    return index;
  }

  function unindex(record: StoredClient): void {
    const index = byAccount.get(record.account_id);
    if (!index) return;
    index.delete(record);
    if (index.size === 0) byAccount.delete(record.account_id);
  }

  return {
    async get(accountId, clientId) {
      const record = byId.get(clientId);
      return record && record.account_id === accountId ? handOut(record) : null;
    },
    async getById(clientId) {
      const record = byId.get(clientId);
      return record ? handOut(record) : null;
    },
    async list(accountId, query: ListQuery) {
      const page = byAccount.get(accountId)?.page(query.after, query.limit) ?? [];
      return page.some((record) => unfreezable.has(record)) ? page.map(handOut) : page;
    },
    async insert(record) {
      if (byId.has(record.client_id)) return false;
      const stored = frozenCopy(record, unfreezable);
      byId.set(stored.client_id, stored);
      indexOf(stored.account_id).insert(stored);
      return true;
    },
    async update(record, expectedVersion) {
      const current = byId.get(record.client_id);
      if (!current || current.account_id !== record.account_id || current.version !== expectedVersion) return false;
      const stored = frozenCopy(record, unfreezable);
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
