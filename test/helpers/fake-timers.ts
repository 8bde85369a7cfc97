/**
 * Timers driven by a fake clock, for code that takes injected timers (the
 * verification scheduler, resolveTxtWithTimeout): nothing fires until a
 * test moves time on, and then every timer fires at its own moment, in order.
 */
import type { SchedulerTimers } from "../../src/index.js";
import type { FakeClock } from "./registry.js";

export interface FakeTimers {
  timers: SchedulerTimers;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
  /**
   * Moves the clock on by `ms`, firing each timer due on the way at its own
   * time; after each one, `settle` (e.g. the scheduler's `settled`) is
   * awaited so that work it started can set the next timers.
   */
  advance(ms: number, settle?: () => Promise<void>): Promise<void>;
}

/**
 * @example
 * const clock = fakeClock(); const fake = fakeTimers(clock);
 * const scheduler = createVerificationScheduler(registry, { now: clock.now, timers: fake.timers });
 * await fake.advance(30_000, scheduler.settled);
 */
export function fakeTimers(clock: FakeClock): FakeTimers {
  let sequence = 0;
  const timers = new Map<number, { at: number; callback: () => void; order: number }>();
  const nowMs = () => clock.now().getTime();
  return {
    timers: {
      setTimeout(callback, ms) {
        const id = ++sequence;
        timers.set(id, { at: nowMs() + Math.max(0, ms), callback, order: id });
        return id;
      },
      clearTimeout(handle) {
        timers.delete(handle as number);
      },
    },
    pending: () => timers.size,
    async advance(ms, settle) {
      const end = nowMs() + ms;
      for (;;) {
        // Let work started by the last timer run (event-loop turns, not time) before the next is picked.
        for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
        if (settle) await settle();
        let next: [number, { at: number; callback: () => void; order: number }] | null = null;
        for (const entry of timers) {
          if (entry[1].at > end) continue;
          if (next === null || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order)) next = entry;
        }
        if (next === null) break;
        timers.delete(next[0]);
        if (next[1].at > nowMs()) clock.advance(next[1].at - nowMs());
        next[1].callback();
      }
      if (end > nowMs()) clock.advance(end - nowMs());
    },
  };
}
