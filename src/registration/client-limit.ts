/**
 * A cap on the clients open registration may create in one account: past
 * it a registration is refused with a clear message until clients are
 * deleted or purged, so a flood of registrations cannot grow the table
 * without bound.
 */
import { storeCall } from "../model/storage-faults.js";
import type { ClientStore, ListPosition } from "../model/store.js";

/** Options of {@link createRegistrationClientLimit}. */
export interface RegistrationClientLimitOptions {
  /** Most clients the account may hold (a positive integer). */
  maxClients: number;
  /** Clock, injectable for tests (default `() => new Date()`). */
  now?: () => Date;
}

/** Admission of new registrations into an account; see {@link createRegistrationClientLimit}. */
export interface RegistrationClientLimit {
  readonly maxClients: number;
  /** Reserves room for one registration: false when the account holds `maxClients` (counting reservations in flight). */
  reserve(accountId: string): Promise<boolean>;
  /** Ends a reservation: `stored` tells whether it became a client. */
  settle(accountId: string, stored: boolean): void;
}

/** How long a count read from the store is trusted. */
const RECOUNT_AFTER_MS = 60_000;
/** How long a count at the cap is trusted before the store is read again for room made by deletions. */
const RECOUNT_AT_CAP_AFTER_MS = 5_000;
/** Records read per store call while counting. */
const COUNT_PAGE = 1000;

interface AccountCount {
  stored: number;
  pending: number;
  readAtMs: number;
}

/**
 * The cap of the registration handler's `clientLimit` option. The store
 * contract has no count, so the number of clients is read with a bounded
 * scan of the account's list (stopping at the cap, `maxClients / 1000`
 * reads at most) and kept in memory: this process adds what it registers,
 * and reads the store again every minute, every five seconds while at the
 * cap (so that purged or deleted clients make room soon). Several
 * processes on one store each see the others' registrations at their next
 * read; until then the cap can be passed by what the others register in
 * that time — combine it with the store-backed rate limit, which bounds
 * that.
 *
 * @example
 * ```ts
 * import { createRegistrationClientLimit, createRegistrationHandler } from "oauth-client-registry/registration";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 *
 * const store = createMemoryStore();
 * const register = createRegistrationHandler(registry, {
 *   accountId: "registered",
 *   clientLimit: createRegistrationClientLimit(store, { maxClients: 10_000 }),
 * });
 * ```
 */
export function createRegistrationClientLimit(store: ClientStore, options: RegistrationClientLimitOptions): RegistrationClientLimit {
  const { maxClients } = options;
  if (!Number.isSafeInteger(maxClients) || maxClients < 1) throw new TypeError("createRegistrationClientLimit: maxClients must be a positive integer");
  const now = options.now ?? (() => new Date());
  const counts = new Map<string, AccountCount>();
  const reading = new Map<string, Promise<AccountCount>>();

  async function count(accountId: string): Promise<number> {
    let stored = 0;
    let after: ListPosition | null = null;
    while (stored < maxClients) {
      const page = await storeCall(() => store.list(accountId, { limit: COUNT_PAGE, after }));
      stored += page.length;
      if (page.length < COUNT_PAGE) break;
      const last = page.at(-1)!;
      after = { created_at: last.created_at, client_id: last.client_id };
    }
    return stored;
  }

  async function current(accountId: string): Promise<AccountCount> {
    const nowMs = now().getTime();
    const known = counts.get(accountId);
    const fresh = known !== undefined && nowMs - known.readAtMs < (known.stored + known.pending >= maxClients ? RECOUNT_AT_CAP_AFTER_MS : RECOUNT_AFTER_MS);
    if (fresh) return known;
    let read = reading.get(accountId);
    if (read === undefined) {
      // One read per account at a time: concurrent registrations wait for the same count.
      read = count(accountId)
        .then((stored) => {
          const entry = counts.get(accountId) ?? { stored: 0, pending: 0, readAtMs: 0 };
          entry.stored = stored;
          entry.readAtMs = nowMs;
          counts.set(accountId, entry);
          return entry;
        })
        .finally(() => reading.delete(accountId));
      reading.set(accountId, read);
    }
    return read;
  }

  return {
    maxClients,
    async reserve(accountId) {
      const entry = await current(accountId);
      if (entry.stored + entry.pending >= maxClients) return false;
      entry.pending++;
      return true;
    },
    settle(accountId, stored) {
      const entry = counts.get(accountId);
      if (entry === undefined) return;
      entry.pending = Math.max(0, entry.pending - 1);
      if (stored) entry.stored++;
    },
  };
}
