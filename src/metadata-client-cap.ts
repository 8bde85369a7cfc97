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
import type { RegistryContext } from "./registry-context.js";
import { storeCall } from "./storage-faults.js";
import type { ListPosition } from "./store.js";

/** Default of `clientIdMetadataDocuments.maxClients`. */
export const DEFAULT_MAX_METADATA_CLIENTS = 10_000;
/** How long a count read from the store is trusted. */
const RECOUNT_AFTER_MS = 60_000;
/** How long a count at the cap is trusted before the store is read again for room made by deletions. */
const RECOUNT_AT_CAP_AFTER_MS = 5_000;

/** Admission of new metadata-document clients into their account. */
export interface MetadataClientCap {
  /** Room for one more client: false when the account holds the maximum already (counting reservations in flight). */
  reserve(): Promise<boolean>;
  /** A reservation became a stored client. */
  inserted(): void;
  /** A reservation that did not become a stored client (refused document, lost race). */
  release(): void;
}

/**
 * Why `value` is not an acceptable `maxClients`, or null: a positive
 * integer, or `Infinity` for no cap.
 *
 * @example
 * maxClientsProblem(0); // "…must be a positive integer…"
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
 * const cap = createMetadataClientCap(context, "acct_cimd", 10_000);
 * if (!(await cap.reserve())) throw new ClientMetadataError([{ path: "", message: "full" }]);
 */
export function createMetadataClientCap(context: RegistryContext, accountId: string, maxClients: number): MetadataClientCap {
  const { store, limits } = context;
  // Clients stored, as of the last count plus this process's inserts since.
  let stored = 0;
  let countedAt = Number.NEGATIVE_INFINITY;
  // Reserved by resolutions still fetching or checking their document.
  let pending = 0;
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

  async function reserve(): Promise<boolean> {
    if (maxClients === Number.POSITIVE_INFINITY) return true;
    const age = context.now().getTime() - countedAt;
    const full = stored + pending >= maxClients;
    if (age >= RECOUNT_AFTER_MS || (full && age >= RECOUNT_AT_CAP_AFTER_MS)) {
      // One count at a time: concurrent resolutions share it.
      counting ??= count().finally(() => {
        counting = null;
      });
      await counting;
    }
    if (stored + pending >= maxClients) return false;
    pending++;
    return true;
  }

  return {
    reserve,
    inserted() {
      if (maxClients === Number.POSITIVE_INFINITY) return;
      pending = Math.max(0, pending - 1);
      stored++;
      if (counting !== null) insertedDuringCount++;
    },
    release() {
      if (maxClients === Number.POSITIVE_INFINITY) return;
      pending = Math.max(0, pending - 1);
    },
  };
}
