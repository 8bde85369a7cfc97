/**
 * {@link ClientStore.claimOnce} for the in-memory store: single-use keys
 * and per-owner budgets within one process (what several processes share
 * needs a database store).
 */
import { assertClaimRequest, type ClaimRequest, type ClaimResult } from "../src/model/store.js";
import { popEarliest, pushByExpiry } from "../src/model/expiry-heap.js";

interface Claim {
  readonly id: string;
  readonly expiresAtMs: number;
  /** The scope and owner the claim counts toward, or undefined. */
  readonly tally: string | undefined;
}

/** Keys of a scope and a key (or owner), kept apart by a character neither may contain in JSON text. */
const idOf = (scope: string, value: string) => JSON.stringify([scope, value]);

/**
 * The claims of one memory store. Expired claims leave a min-heap on their
 * expiry before each call, so live counts per owner are exact and memory
 * holds only live claims.
 *
 * @example
 * ```ts
 * const claimOnce = createMemoryClaims();
 * await claimOnce({ scope: "jti", key: "k", expiresAtMs: 2_000, nowMs: 1_000 }); // "new"
 * ```
 */
export function createMemoryClaims(): (claim: ClaimRequest) => Promise<ClaimResult> {
  const live = new Map<string, Claim>();
  const counts = new Map<string, number>();
  const heap: Claim[] = [];

  function dropExpired(nowMs: number): void {
    while (heap.length > 0 && heap[0]!.expiresAtMs <= nowMs) {
      const claim = popEarliest(heap);
      // A key claimed again after it expired has a newer entry; only the entry in the map counts.
      if (live.get(claim.id) !== claim) continue;
      live.delete(claim.id);
      if (claim.tally !== undefined) {
        const n = counts.get(claim.tally)! - 1;
        if (n === 0) counts.delete(claim.tally);
        else counts.set(claim.tally, n);
      }
    }
  }

  return async (request) => {
    assertClaimRequest(request);
    const { scope, key, expiresAtMs, nowMs, owner, maxPerOwner } = request;
    dropExpired(nowMs);
    const id = idOf(scope, key);
    const existing = live.get(id);
    if (existing !== undefined && existing.expiresAtMs > nowMs) return "seen";
    const tally = owner === undefined ? undefined : idOf(scope, owner);
    if (tally !== undefined && maxPerOwner !== undefined && (counts.get(tally) ?? 0) >= maxPerOwner) return "over_budget";
    // Already expired: nothing could be refused by it, so nothing is held.
    if (!(expiresAtMs > nowMs)) return "new";
    const claim: Claim = { id, expiresAtMs, tally };
    live.set(id, claim);
    if (tally !== undefined) counts.set(tally, (counts.get(tally) ?? 0) + 1);
    pushByExpiry(heap, claim);
    return "new";
  };
}
