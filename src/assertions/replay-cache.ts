/**
 * Single use of client assertions: a `jti` is remembered until the
 * assertion carrying it expires, so the same assertion cannot authenticate
 * twice (RFC 7523 §3 item 7, RFC 9700 §2.3 / §4.x on replay).
 */

/**
 * Where the verifier records the assertions it accepted. `add` returns
 * `true` when the key was not yet recorded (and records it until
 * `expiresAtMs`), `false` when it was: the assertion is a replay. A shared
 * store (Redis `SET NX PX`, a unique-keyed table) makes single use hold
 * across several server processes; the in-memory cache only within one.
 *
 * @example
 * const redisReplayCache: ReplayCache = {
 *   async add(key, expiresAtMs) {
 *     const ttl = Math.max(1, expiresAtMs - Date.now());
 *     return (await redis.set(`jti:${key}`, "1", { NX: true, PX: ttl })) === "OK";
 *   },
 * };
 */
export interface ReplayCache {
  add(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/** Options of {@link createMemoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /** Most unexpired keys held at once (default 100 000). */
  maxEntries?: number;
  /** Clock, injectable for tests (default `() => new Date()`). */
  now?: () => Date;
}

/** The in-memory {@link ReplayCache}, with its current size for tests and metrics. */
export interface MemoryReplayCache extends ReplayCache {
  add(key: string, expiresAtMs: number): boolean;
  /** Number of unexpired keys held (expired ones are dropped first). */
  readonly size: number;
}

/** Default of {@link MemoryReplayCacheOptions.maxEntries}. */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

interface HeapEntry {
  expiresAtMs: number;
  key: string;
}

/**
 * A bounded in-memory replay cache for one process. Expired keys are
 * dropped before anything else (a min-heap on expiry keeps that O(log n)
 * per call). When `maxEntries` unexpired keys are held, `add` returns
 * `false` for any new key: the cache fails closed, refusing assertions
 * rather than forgetting one that could then be replayed. Memory stays
 * bounded because the verifier passes fixed-length keys (a SHA-256 digest).
 *
 * @example
 * const verifier = createAssertionVerifier({ replayCache: createMemoryReplayCache({ maxEntries: 50_000 }) });
 */
export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): MemoryReplayCache {
  const maxEntries = options.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("maxEntries must be a positive integer");
  const now = options.now ?? (() => new Date());
  const expiries = new Map<string, number>();
  const heap: HeapEntry[] = [];

  function evictExpired(nowMs: number): void {
    while (heap.length > 0 && heap[0]!.expiresAtMs <= nowMs) {
      // The heap and the map hold the same keys: a key is added only while
      // absent from the map, and leaves both at once here.
      expiries.delete(popMin(heap).key);
    }
  }

  return {
    add(key: string, expiresAtMs: number): boolean {
      const nowMs = now().getTime();
      evictExpired(nowMs);
      if (expiries.has(key)) return false;
      // Already expired: nothing could replay it, so there is nothing to hold.
      if (!(expiresAtMs > nowMs)) return true;
      if (expiries.size >= maxEntries) return false;
      expiries.set(key, expiresAtMs);
      pushEntry(heap, { expiresAtMs, key });
      return true;
    },
    get size(): number {
      evictExpired(now().getTime());
      return expiries.size;
    },
  };
}

function pushEntry(heap: HeapEntry[], entry: HeapEntry): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.expiresAtMs <= entry.expiresAtMs) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = entry;
}

function popMin(heap: HeapEntry[]): HeapEntry {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right]!.expiresAtMs < heap[left]!.expiresAtMs ? right : left;
    if (heap[child]!.expiresAtMs >= last.expiresAtMs) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
