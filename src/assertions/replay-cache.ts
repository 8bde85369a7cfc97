/**
 * Single use of client assertions: a `jti` is remembered until the
 * assertion carrying it expires, so the same assertion cannot authenticate
 * twice (RFC 7523 §3 item 7, RFC 9700 §2.3 / §4.x on replay).
 *
 * The state is shared by every client, and a client can be anyone who may
 * register (or host a metadata document), so it is divided fairly: each
 * client has a budget of live entries, and a small floor of entries per
 * client lives in a reserve no other client can use up.
 */

import { popEarliest, pushByExpiry } from "../model/expiry-heap.js";

/**
 * What {@link ReplayCache.add} answers: `true`, the key was not recorded
 * and now is (the assertion is fresh); `false`, it was already recorded
 * (a replay); `"over_budget"`, the key is new but the client already holds
 * its share of live entries, so it was not recorded and the assertion is
 * refused (reason `too_many_assertions`) — for that client alone;
 * `"full"`, the key is new but the cache holds all it may (its reserve
 * for clients under the floor included), and it was not recorded.
 */
export type ReplayCacheResult = boolean | "over_budget" | "full";

/** What the verifier tells a {@link ReplayCache} besides the key. */
export interface ReplayCacheAddOptions {
  /**
   * The client the assertion authenticated. A cache that holds entries
   * for several clients uses it to keep each one within its share (see
   * {@link ReplayCache}); the key itself is an opaque digest.
   */
  clientId?: string;
}

/**
 * Where the verifier records the assertions it accepted. `add` returns
 * `true` when the key was not yet recorded (and records it until
 * `expiresAtMs`), `false` when it was: the assertion is a replay. A shared
 * store (Redis `SET NX PX`, a unique-keyed table) makes single use hold
 * across several server processes; the in-memory cache only within one.
 *
 * **Fairness rule** (what {@link createMemoryReplayCache} does, and what a
 * shared store must do too, since clients may be created by anyone allowed
 * to register): with `clientId` given, count the live (unexpired) entries
 * per client, and
 * 1. never let one client's entries stop another client's fresh assertion:
 *    keep a reserve of at least `floor` entries per client that only
 *    clients holding fewer than `floor` entries may use, and keep entries
 *    beyond each client's floor in a separate, bounded shared part;
 * 2. answer `"over_budget"` for a new key of a client that holds its
 *    per-client budget of live entries, or whose entries beyond the floor
 *    no longer fit in the shared part — that client alone is refused;
 * 3. never evict a live entry to make room (that would let its assertion be
 *    replayed): refuse instead.
 * In SQL, for instance: the keys in a table indexed on (client, expiry),
 * a client's live count read with `count(*)` on that index, and the total
 * beyond the floors kept in one counter row, all in the transaction that
 * inserts the key; expired rows are deleted (and the counter lowered) before.
 * A store that keeps no count per client (plain `SET NX`) satisfies single
 * use but not fairness; it must then be large enough that no client can
 * fill it.
 *
 * @example
 * ```ts
 * // Plain SET NX: single use, but no count per client (see above).
 * declare const redis: { set(key: string, value: string, options: { NX: true; PX: number }): Promise<string | null> };
 * const redisReplayCache: ReplayCache = {
 *   async add(key, expiresAtMs) {
 *     const ttl = Math.max(1, expiresAtMs - Date.now());
 *     return (await redis.set(`jti:${key}`, "1", { NX: true, PX: ttl })) === "OK";
 *   },
 * };
 * ```
 */
export interface ReplayCache {
  add(key: string, expiresAtMs: number, options?: ReplayCacheAddOptions): ReplayCacheResult | Promise<ReplayCacheResult>;
}

/** Options of {@link createMemoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /** Most unexpired keys held at once, every client together: a hard bound (default 100 000). */
  maxEntries?: number;
  /** Most unexpired keys one client may hold (default 1 000). */
  maxEntriesPerClient?: number;
  /**
   * The floor: a client holding fewer unexpired keys than this is admitted
   * from the reserve even when the shared part is full (default 16, at most
   * `maxEntriesPerClient`).
   */
  reservedEntriesPerClient?: number;
  /**
   * Size of the reserve: entries below each client's floor, which no
   * client's entries beyond its floor can take (default half of
   * `maxEntries`). The shared part is `maxEntries - reservedEntries`.
   */
  reservedEntries?: number;
  /** Clock, injectable for tests (default `() => new Date()`). */
  now?: () => Date;
}

/** The in-memory {@link ReplayCache}, with its current size for tests and metrics. */
export interface MemoryReplayCache extends ReplayCache {
  add(key: string, expiresAtMs: number, options?: ReplayCacheAddOptions): ReplayCacheResult;
  /** Number of unexpired keys held (expired ones are dropped first). */
  readonly size: number;
}

/** Default of {@link MemoryReplayCacheOptions.maxEntries}. */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;
/** Default of {@link MemoryReplayCacheOptions.maxEntriesPerClient}: about 3 assertions a second over a 330 s window. */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT = 1_000;
/** Default of {@link MemoryReplayCacheOptions.reservedEntriesPerClient}. */
export const DEFAULT_REPLAY_CACHE_RESERVED_ENTRIES_PER_CLIENT = 16;

/** Live keys of one client; every key of the client points to the one tally, so its id is held once. */
interface ClientTally {
  readonly clientId: string;
  count: number;
}

interface HeapEntry {
  expiresAtMs: number;
  key: string;
  tally: ClientTally | undefined;
}

/**
 * A bounded in-memory replay cache for one process, shared fairly between
 * clients. Expired keys are dropped before anything else (a min-heap on
 * expiry keeps that O(log n) per call); a live key is never evicted, so
 * a cache that cannot take a key refuses the assertion (fails closed).
 *
 * Memory bound: at most `maxEntries` keys are held, whatever the number of
 * clients — each a 64-character digest from the verifier with its expiry —
 * and one tally (the client id, held once, and a count) per client holding
 * keys, so at most `maxEntries` tallies; client ids are at most 255
 * characters in this registry.
 *
 * Admission of a new key of client C holding n live keys (the
 * {@link ReplayCache} fairness rule, with F = `reservedEntriesPerClient`,
 * R = `reservedEntries`):
 * - n ≥ `maxEntriesPerClient`: `"over_budget"`;
 * - n < F: admitted unless `maxEntries` keys are held (`"full"`). Keys
 *   beyond the clients' floors never exceed `maxEntries - R`, so that
 *   happens only once the reserve is used up: at least ⌈R / F⌉ distinct
 *   clients each holding F live keys (defaults: 3 125 clients, each with 16
 *   assertions accepted within the assertion lifetime). Below that, no set
 *   of other clients can get C's fresh assertion refused;
 * - n ≥ F: admitted while the keys beyond the floors number fewer than
 *   `maxEntries - R`, else `"over_budget"`.
 * Keys added without a `clientId` are outside the rule: admitted while
 * fewer than `maxEntries` keys are held, `false` otherwise (as before the
 * rule existed).
 *
 * @example
 * ```ts
 * import { createAssertionVerifier } from "oauth-client-registry";
 *
 * const verifier = createAssertionVerifier({ replayCache: createMemoryReplayCache({ maxEntries: 50_000, maxEntriesPerClient: 500 }) });
 * ```
 */
export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): MemoryReplayCache {
  const maxEntries = options.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("maxEntries must be a positive integer");
  const perClient = options.maxEntriesPerClient ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT;
  if (!Number.isInteger(perClient) || perClient < 1) throw new TypeError("maxEntriesPerClient must be a positive integer");
  const requestedFloor = options.reservedEntriesPerClient ?? DEFAULT_REPLAY_CACHE_RESERVED_ENTRIES_PER_CLIENT;
  if (!Number.isInteger(requestedFloor) || requestedFloor < 0) throw new TypeError("reservedEntriesPerClient must be a non-negative integer");
  const floor = Math.min(requestedFloor, perClient);
  const reserved = options.reservedEntries ?? Math.floor(maxEntries / 2);
  if (!Number.isInteger(reserved) || reserved < 0 || reserved > maxEntries) {
    throw new TypeError("reservedEntries must be an integer from 0 to maxEntries");
  }
  const shared = maxEntries - reserved;
  const now = options.now ?? (() => new Date());
  const expiries = new Map<string, number>();
  const heap: HeapEntry[] = [];
  // Live keys per client, and how many of all of them lie beyond their
  // client's floor: both follow from the counts, kept in step on every change.
  const tallies = new Map<string, ClientTally>();
  let beyondFloor = 0;

  function release(tally: ClientTally | undefined): void {
    if (tally === undefined) return;
    if (tally.count > floor) beyondFloor--;
    if (--tally.count === 0) tallies.delete(tally.clientId);
  }

  function evictExpired(nowMs: number): void {
    while (heap.length > 0 && heap[0]!.expiresAtMs <= nowMs) {
      // The heap and the map hold the same keys: a key is added only while
      // absent from the map, and leaves both at once here.
      const entry = popEarliest(heap);
      expiries.delete(entry.key);
      release(entry.tally);
    }
  }

  function admission(clientId: string | undefined): ReplayCacheResult {
    if (clientId === undefined) return expiries.size < maxEntries;
    const n = tallies.get(clientId)?.count ?? 0;
    if (n >= perClient) return "over_budget";
    if (n < floor) return expiries.size < maxEntries ? true : "full";
    return beyondFloor < shared && expiries.size < maxEntries ? true : "over_budget";
  }

  return {
    add(key: string, expiresAtMs: number, addOptions: ReplayCacheAddOptions = {}): ReplayCacheResult {
      const nowMs = now().getTime();
      evictExpired(nowMs);
      if (expiries.has(key)) return false;
      // Already expired: nothing could replay it, so there is nothing to hold.
      if (!(expiresAtMs > nowMs)) return true;
      const { clientId } = addOptions;
      const admitted = admission(clientId);
      if (admitted !== true) return admitted;
      let tally: ClientTally | undefined;
      if (clientId !== undefined) {
        tally = tallies.get(clientId);
        if (tally === undefined) tallies.set(clientId, (tally = { clientId, count: 0 }));
        if (tally.count >= floor) beyondFloor++;
        tally.count++;
      }
      expiries.set(key, expiresAtMs);
      pushByExpiry(heap, { expiresAtMs, key, tally });
      return true;
    },
    get size(): number {
      evictExpired(now().getTime());
      return expiries.size;
    },
  };
}
