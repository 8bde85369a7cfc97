// The in-memory replay cache behind private_key_jwt single use: bounded,
// expired keys dropped first, fail closed when full.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_REPLAY_CACHE_MAX_ENTRIES, createMemoryReplayCache } from "../src/assertions/index.js";
import { fakeClock } from "./helpers/registry.js";

describe("createMemoryReplayCache", () => {
  it("accepts a key once and refuses it until it expires", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    const cache = createMemoryReplayCache({ now: clock.now });
    expect(cache.add("a", clock.ms() + 1000)).toBe(true);
    expect(cache.add("a", clock.ms() + 5000)).toBe(false);
    clock.advance(999);
    expect(cache.add("a", clock.ms() + 1000)).toBe(false);
    clock.advance(1);
    expect(cache.add("a", clock.ms() + 1000)).toBe(true);
  });

  it("does not hold a key that has already expired", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    const cache = createMemoryReplayCache({ now: clock.now });
    expect(cache.add("old", clock.ms())).toBe(true);
    expect(cache.size).toBe(0);
  });

  it("fails closed when full of unexpired keys, and frees room as they expire", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    const cache = createMemoryReplayCache({ maxEntries: 3, now: clock.now });
    expect(cache.add("a", clock.ms() + 3000)).toBe(true);
    expect(cache.add("b", clock.ms() + 1000)).toBe(true);
    expect(cache.add("c", clock.ms() + 2000)).toBe(true);
    expect(cache.add("d", clock.ms() + 1000)).toBe(false);
    expect(cache.size).toBe(3);
    clock.advance(1000);
    // "b" expired first, although it was not the first added.
    expect(cache.add("d", clock.ms() + 1000)).toBe(true);
    expect(cache.add("b", clock.ms() + 1000)).toBe(false);
    expect(cache.add("a", clock.ms() + 1000)).toBe(false);
    expect(cache.size).toBe(3);
  });

  it("holds at most 100 000 keys by default", () => {
    expect(DEFAULT_REPLAY_CACHE_MAX_ENTRIES).toBe(100_000);
    expect(() => createMemoryReplayCache({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => createMemoryReplayCache({ maxEntries: 1.5 })).toThrow(TypeError);
  });

  it("answers like a plain map of key → expiry under any sequence of adds and clock moves", () => {
    type Op = { kind: "add"; key: string; ttlMs: number } | { kind: "advance"; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), key: fc.constantFrom("a", "b", "c", "d", "e", "f"), ttlMs: fc.integer({ min: -5, max: 50 }) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (maxEntries, ops) => {
        const clock = fakeClock(new Date(0));
        const cache = createMemoryReplayCache({ maxEntries, now: clock.now });
        const model = new Map<string, number>();
        for (const step of ops) {
          if (step.kind === "advance") {
            clock.advance(step.ms);
            continue;
          }
          const now = clock.ms();
          for (const [key, expiresAt] of model) if (expiresAt <= now) model.delete(key);
          const expiresAt = now + step.ttlMs;
          let expected: boolean;
          if (model.has(step.key)) expected = false;
          else if (expiresAt <= now) expected = true;
          else if (model.size >= maxEntries) expected = false;
          else {
            model.set(step.key, expiresAt);
            expected = true;
          }
          expect(cache.add(step.key, expiresAt)).toBe(expected);
          expect(cache.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
