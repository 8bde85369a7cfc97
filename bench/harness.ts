/**
 * Rounds, ratios and spreads: how every row of the benchmark is measured.
 *
 * A comparison is a set of variants (our code and its baseline, at one or
 * several store sizes). Each round runs every variant once, in an order
 * that rotates from round to round, so that machine noise (other
 * processes on a shared 2-core machine, GC, CPU frequency) lands on all of
 * them alike. A row's figure is the median of the per-round ratios, never a
 * ratio of medians, with the spread of those ratios (min–max and IQR).
 */

/** One measured operation: untimed setup and teardown around timed calls. */
export interface Workload {
  /** Untimed: prepares the inputs of calls 0..n-1 of the next batch. */
  setup?(n: number): unknown;
  /** The timed call; `i` is its index within the batch. */
  run(i: number): unknown;
  /** Untimed: puts the store back as it was before the batch. */
  teardown?(): unknown;
  /** Most calls per batch (writes that consume prepared clients); default unbounded. */
  maxBatch?: number;
}

/** Spread of a sample: median, min, max, quartiles. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

/** Settings of a run. */
export interface HarnessOptions {
  /** Interleaved rounds per comparison. */
  rounds: number;
  /** Target duration of one variant's timed part in one round, in ms. */
  roundMs: number;
}

/** Per-round costs (µs per call) of each variant, in the order of the rounds. */
export type RoundCosts = Record<string, number[]>;

/**
 * The same rounds on two clocks: wall time (what a caller waits, fsync
 * included) and this process's CPU time (user + system, all threads),
 * which other processes on a busy machine disturb far less.
 */
export interface Clocks {
  wall: RoundCosts;
  cpu: RoundCosts;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 1) return sorted[0]!;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * Median, extremes and quartiles of a sample.
 *
 * @example
 * spread([3, 1, 2]); // { median: 2, min: 1, max: 3, q1: 1.5, q3: 2.5 }
 */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error("spread of an empty sample");
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted.at(-1)!,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

/**
 * Per-round ratios `numerator[r] / denominator[r]` of two variants measured
 * in the same rounds, summarized by their spread.
 *
 * @example
 * pairedRatio([10, 12], [5, 4]); // median 2.5 (ratios 2 and 3)
 */
export function pairedRatio(numerator: readonly number[], denominator: readonly number[]): Spread {
  if (numerator.length !== denominator.length) throw new Error("paired samples differ in length");
  return spread(numerator.map((n, r) => n / denominator[r]!));
}

/** Wall and CPU milliseconds of `calls` timed calls (setup and teardown excluded). */
async function timeBatch(workload: Workload, calls: number): Promise<{ wall: number; cpu: number }> {
  let wall = 0;
  let cpu = 0;
  for (let done = 0; done < calls; ) {
    const n = Math.min(workload.maxBatch ?? Infinity, calls - done);
    await workload.setup?.(n);
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) await workload.run(i);
    wall += performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    cpu += (used.user + used.system) / 1000;
    await workload.teardown?.();
    done += n;
  }
  return { wall, cpu };
}

/** Calls per round so that one round of `workload` takes about `roundMs` of timed work. */
async function calibrate(workload: Workload, roundMs: number): Promise<number> {
  let calls = 1;
  for (;;) {
    const ms = (await timeBatch(workload, calls)).wall;
    if (ms >= roundMs / 4 || calls >= 1 << 20) {
      return Math.max(1, Math.min(1 << 20, Math.round((calls * roundMs) / Math.max(ms, 1e-3))));
    }
    calls *= ms < roundMs / 64 ? 8 : 2;
  }
}

/**
 * Runs every variant once per round, interleaved, rotating the order each
 * round; returns each variant's cost per call (µs) per round, on both
 * clocks. Each variant is first warmed up and calibrated to about
 * `roundMs` of wall time per round.
 *
 * @example
 * const { wall } = await interleave({ ours: { run: () => store.get(a, id) }, baseline: { run: () => map.get(id) } }, { rounds: 7, roundMs: 20 });
 * pairedRatio(wall.baseline!, wall.ours!).median; // ours' speed relative to the baseline
 */
export async function interleave(variants: Record<string, Workload>, options: HarnessOptions): Promise<Clocks> {
  const names = Object.keys(variants);
  const calls: Record<string, number> = {};
  for (const name of names) calls[name] = await calibrate(variants[name]!, options.roundMs);
  const wall: RoundCosts = Object.fromEntries(names.map((name) => [name, []]));
  const cpu: RoundCosts = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      // Rotating the start spreads "who runs right after whom" over the rounds.
      const name = names[(k + round) % names.length]!;
      const ms = await timeBatch(variants[name]!, calls[name]!);
      wall[name]!.push((ms.wall * 1000) / calls[name]!);
      cpu[name]!.push((ms.cpu * 1000) / calls[name]!);
    }
  }
  return { wall, cpu };
}

/**
 * A small seeded generator (xorshift32), so every run picks the same clients.
 *
 * @example
 * const random = seededRandom(1);
 * random(); // a number in [0, 1), the same on every run
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/**
 * `n` distinct items of `pool`, chosen with `random` (n ≤ pool.length).
 *
 * @example
 * pickDistinct(["a", "b", "c"], 2, seededRandom(1)); // two different letters
 */
export function pickDistinct<T>(pool: readonly T[], n: number, random: () => number): T[] {
  if (n > pool.length) throw new Error(`cannot pick ${n} distinct items from ${pool.length}`);
  const chosen = new Set<number>();
  while (chosen.size < n) chosen.add(Math.floor(random() * pool.length));
  return [...chosen].map((i) => pool[i]!);
}
