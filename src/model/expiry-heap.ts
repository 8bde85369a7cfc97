/**
 * A binary min-heap on `expiresAtMs`: the earliest expiry is always at
 * index 0, so dropping expired entries costs O(log n) each. Used by the
 * in-memory replay cache and the memory store's single-use claims.
 */

/** What the heap orders by. */
export interface Expiring {
  expiresAtMs: number;
}

/**
 * Adds `entry` to `heap`.
 *
 * @example
 * ```ts
 * const heap: { expiresAtMs: number; key: string }[] = [];
 * pushByExpiry(heap, { expiresAtMs: 2_000, key: "b" });
 * pushByExpiry(heap, { expiresAtMs: 1_000, key: "a" });
 * heap[0]!.key; // "a"
 * ```
 */
export function pushByExpiry<T extends Expiring>(heap: T[], entry: T): void {
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

/**
 * Removes and returns the entry that expires first; `heap` must not be empty.
 *
 * @example
 * ```ts
 * const heap = [{ expiresAtMs: 1_000 }];
 * popEarliest(heap).expiresAtMs; // 1000
 * ```
 */
export function popEarliest<T extends Expiring>(heap: T[]): T {
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
