/**
 * The cap on stored Client ID Metadata Document clients. Anyone who can
 * serve a JSON document can make the registry store a client (one per
 * distinct URL, no authentication), so the account that holds them is
 * bounded: past `maxClients` stored "cimd" clients, a new client id URL is
 * refused before its document is fetched, and nothing is stored.
 *
 * The store contract has no count, so the number is read with a bounded
 * scan of that account's list (stopping once the cap is reached) and kept
 * in memory: this process adds its own inserts, and reads the store again
 * every minute — every five seconds while at the cap, so that purged or
 * deleted clients make room soon. Several processes on one store each see
 * the others' inserts at their next scan; until then the cap can be passed
 * by what the other processes insert within that minute.
 */
import type { RegistryContext } from "./context.js";
import { storeCall } from "../model/storage-faults.js";
import type { ListPosition } from "../model/store.js";

/** Default of `clientIdMetadataDocuments.maxClients`. */
export const DEFAULT_MAX_METADATA_CLIENTS = 10_000;
/** How long a count read from the store is trusted. */
const RECOUNT_AFTER_MS = 60_000;
/** How long a count at the cap is trusted before the store is read again for room made by deletions. */
const RECOUNT_AT_CAP_AFTER_MS = 5_000;

/** Admission of new metadata-document clients into their account. */
export interface MetadataClientCap {
  /**
   * Room for the client of `url`: false when the account holds the maximum
   * already, counting the distinct URLs in flight (concurrent resolutions
   * of one URL share one room).
   */
  reserve(url: string): Promise<boolean>;
  /** A reservation of `url` became a stored client. */
  inserted(url: string): void;
  /** A reservation of `url` that did not become a stored client (refused document, lost race). */
  release(url: string): void;
}

/**
 * Why `value` is not an acceptable `maxClients`, or null: a positive
 * integer, or `Infinity` for no cap.
 *
 * @example
 * ```ts
 * maxClientsProblem(0); // "clientIdMetadataDocuments.maxClients must be a positive integer (or Infinity for no cap)"
 * ```
 */
export function maxClientsProblem(value: unknown): string | null {
  return value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && (value as number) >= 1)
    ? null
    : "clientIdMetadataDocuments.maxClients must be a positive integer (or Infinity for no cap)";
}

/**
 * Creates the cap of one registry's metadata-document account.
 *
 * @example
 * ```ts
 * declare const context: Parameters<typeof createMetadataClientCap>[0];
 * const url = "https://app.example.com/oauth/client.json";
 * const cap = createMetadataClientCap(context, "acct_cimd", 10_000);
 * if (!(await cap.reserve(url))) throw new Error("the account holds the most metadata-document clients it may");
 * ```
 */
export function createMetadataClientCap(context: RegistryContext, accountId: string, maxClients: number): MetadataClientCap {
  const { store, limits } = context;
  // Clients stored, as of the last count plus this process's inserts since.
  let stored = 0;
  let countedAt = Number.NEGATIVE_INFINITY;
  // Reservations of resolutions still fetching or checking their document, by URL (how many share it).
  const pending = new Map<string, number>();
  // Inserts while a count runs: the scan may or may not have seen them, so they are added (erring on the full side).
  let insertedDuringCount = 0;
  let counting: Promise<void> | null = null;

  /** Reads the account's list, counting "cimd" clients up to the cap; at most cap + other clients records are read. */
  async function count(): Promise<void> {
    insertedDuringCount = 0;
    let found = 0;
    let after: ListPosition | null = null;
    for (;;) {
      const page = await storeCall(() => store.list(accountId, { limit: limits.maxPageSize, after }));
      for (const record of page) if (record.source === "cimd") found++;
      const last = page[page.length - 1];
      if (last === undefined || page.length < limits.maxPageSize || found >= maxClients) break;
      after = { created_at: last.created_at, client_id: last.client_id };
    }
    stored = found + insertedDuringCount;
    countedAt = context.now().getTime();
  }

  /** Drops one holder of `url`'s reservation; true when it was the last one. */
  function drop(url: string): boolean {
    const holders = pending.get(url);
    if (holders === undefined) return false;
    if (holders > 1) {
      pending.set(url, holders - 1);
      return false;
    }
    pending.delete(url);
    return true;
  }

  async function reserve(url: string): Promise<boolean> {
    if (maxClients === Number.POSITIVE_INFINITY) return true;
    const holders = pending.get(url);
    if (holders !== undefined) {
      pending.set(url, holders + 1);
      return true;
    }
    const age = context.now().getTime() - countedAt;
    const full = stored + pending.size >= maxClients;
    if (age >= RECOUNT_AFTER_MS || (full && age >= RECOUNT_AT_CAP_AFTER_MS)) {
      // One count at a time: concurrent resolutions share it.
      counting ??= count().finally(() => {
        counting = null;
      });
      await counting;
    }
    // Another resolution of this URL may have reserved it while the count ran.
    const joined = pending.get(url);
    if (joined !== undefined) {
      pending.set(url, joined + 1);
      return true;
    }
    if (stored + pending.size >= maxClients) return false;
    pending.set(url, 1);
    return true;
  }

  return {
    reserve,
    inserted(url) {
      if (maxClients === Number.POSITIVE_INFINITY) return;
      // The room stays taken by the stored client; the other holders of this URL find it stored and update it.
      pending.delete(url);
      stored++;
      if (counting !== null) insertedDuringCount++;
    },
    release(url) {
      if (maxClients === Number.POSITIVE_INFINITY) return;
      drop(url);
    },
  };
}
