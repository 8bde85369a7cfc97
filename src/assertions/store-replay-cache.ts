/**
 * The replay cache in the store: the `jti` of a client assertion recorded
 * through {@link ClientStore.claimOnce}, so that every process on one
 * database refuses an assertion any of them accepted.
 */
import { storeCall } from "../model/storage-faults.js";
import type { ClaimRequest, ClientStore } from "../model/store.js";
import { DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT, type ReplayCache, type ReplayCacheResult } from "./replay-cache.js";

/** The claim scope of assertion `jti`s in the store. */
export const ASSERTION_CLAIM_SCOPE = "assertion-jti";

/** Options of {@link createStoreReplayCache}. */
export interface StoreReplayCacheOptions {
  /**
   * Most unexpired assertions one client may have recorded at once; past
   * it that client's fresh assertions are refused (`too_many_assertions`)
   * until one expires (default 1 000, as the in-memory cache).
   */
  maxEntriesPerClient?: number;
  /** Clock, injectable for tests (default `() => new Date()`); pass the registry's. */
  now?: () => Date;
}

/**
 * A {@link ReplayCache} over a store's `claimOnce`: single use holds across
 * every process on the database. Fairness is the store's rule (see
 * `ClaimRequest`): each client has `maxEntriesPerClient` live entries and
 * nothing else bounds the table, so a client over its budget is refused
 * alone, and a client under it (under any floor) is always admitted. A
 * store that cannot be reached fails the assertion with
 * `StorageUnavailableError` (503): it is never accepted unrecorded.
 *
 * The registry uses it by default when its store has `claimOnce`.
 *
 * @example
 * ```ts
 * import { createAssertionVerifier, createStoreReplayCache } from "oauth-client-registry";
 * import { createSqliteStore } from "oauth-client-registry/sqlite";
 *
 * const store = createSqliteStore("./clients.sqlite");
 * const verifier = createAssertionVerifier({ replayCache: createStoreReplayCache(store, { maxEntriesPerClient: 500 }) });
 * ```
 */
export function createStoreReplayCache(store: ClientStore, options: StoreReplayCacheOptions = {}): ReplayCache {
  const claimOnce = store.claimOnce;
  if (typeof claimOnce !== "function") throw new TypeError("createStoreReplayCache: the store has no claimOnce");
  const perClient = options.maxEntriesPerClient ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT;
  if (!Number.isSafeInteger(perClient) || perClient < 1) throw new TypeError("maxEntriesPerClient must be a positive integer");
  const now = options.now ?? (() => new Date());
  return {
    async add(key, expiresAtMs, { clientId } = {}): Promise<ReplayCacheResult> {
      const claim: ClaimRequest = {
        scope: ASSERTION_CLAIM_SCOPE,
        key,
        // Whole milliseconds: the store takes integers.
        expiresAtMs: Math.ceil(expiresAtMs),
        nowMs: now().getTime(),
        ...(clientId === undefined ? {} : { owner: clientId, maxPerOwner: perClient }),
      };
      const result = await storeCall(() => claimOnce.call(store, claim));
      return result === "new" ? true : result === "seen" ? false : "over_budget";
    },
  };
}
