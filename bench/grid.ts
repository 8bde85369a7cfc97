/**
 * One store's part of the run: every operation at every size against its
 * baseline, the growth from the smallest size to the largest, and the two
 * side comparisons (keyset against position, authenticate against
 * findClient) at the largest size.
 */
import { createOAuthClientRegistry, type OAuthClientRegistry } from "../src/index.js";
import { interleave, pairedRatio, seededRandom, spread, type Clocks, type HarnessOptions } from "./harness.js";
import { checkOperations, OPERATIONS, operationPairs, type Operation, type OperationPair } from "./operations.js";
import { ACCOUNT, PAGE, randomClientId, SECRET, type Population } from "./population.js";
import type { BenchResults, Comparison, OperationRow, PairRow, ScalingRow } from "./report.js";
import type { OpenedStore, SqlProbe, StoreKind } from "./stores.js";

/** What one store contributes to the results. */
export interface StoreMeasurement {
  rows: OperationRow[];
  scaling: ScalingRow[];
  pairs: PairRow[];
  rounds: BenchResults["rounds"];
  /** What the store's baseline is, as it describes itself. */
  baseline: string;
  /** Kysely stores: SQL the adapter sent that the baseline does not send (empty: the same SQL). */
  sqlNotInBaseline?: string[];
}

/**
 * Runs every store call once through the recording store (on a scratch
 * client, removed again) and returns the SQL texts it sent that are not
 * among the baseline's: the baseline is only "the same SQL" if none are.
 */
async function sqlNotInBaseline(probe: SqlProbe, population: Population): Promise<string[]> {
  const scratch = { ...population.records[0]!, account_id: ACCOUNT, client_id: randomClientId(), version: 1 };
  const { store } = probe;
  probe.sent.length = 0;
  await store.insert(scratch);
  await store.get(ACCOUNT, scratch.client_id);
  await store.getById(scratch.client_id);
  await store.list(ACCOUNT, { limit: PAGE + 1 });
  await store.list(ACCOUNT, { limit: PAGE + 1, after: population.lastPageAfter });
  await store.update({ ...scratch, version: 2 }, 1);
  await store.delete(ACCOUNT, scratch.client_id);
  if (probe.sent.length < 7) throw new Error(`the recording Kysely instance saw ${probe.sent.length} of 7 queries`);
  const normalize = (sql: string) => sql.replace(/\s+/g, " ").trim();
  const known = new Set(Object.values(probe.texts).map(normalize));
  return [...new Set(probe.sent.map(normalize))].filter((sql) => !known.has(sql));
}

/**
 * Keeps each variant's per-round costs under `prefix/variant`, rounded to the nanosecond.
 *
 * @example
 * recordRounds(results.rounds, "memory/get", clocks); // rounds.wall["memory/get/ours@1000"] = [...]
 */
export function recordRounds(into: BenchResults["rounds"], prefix: string, clocks: Clocks): void {
  for (const clock of ["wall", "cpu"] as const) {
    for (const [variant, list] of Object.entries(clocks[clock])) into[clock][`${prefix}/${variant}`] = list.map((v) => Number(v.toFixed(3)));
  }
}

/**
 * A row comparing two variants named `ours` and `baseline`.
 *
 * @example
 * pairRow("HTTP GET one client", "memory", "our handler", "bare node:http", clocks).speed.median;
 */
export function pairRow(name: string, store: string, ours: string, baseline: string, clocks: Clocks): PairRow {
  return {
    name,
    store,
    ours,
    baseline,
    ...comparison(clocks, "ours", "baseline"),
  };
}

/** The costs and speed ratios of the variants `ours` and `baseline` of one run, on both clocks. */
function comparison({ wall, cpu }: Clocks, ours: string, baseline: string): Comparison {
  return {
    oursUs: spread(wall[ours]!),
    baselineUs: spread(wall[baseline]!),
    oursCpuUs: spread(cpu[ours]!),
    baselineCpuUs: spread(cpu[baseline]!),
    speed: pairedRatio(wall[baseline]!, wall[ours]!),
    speedCpu: pairedRatio(cpu[baseline]!, cpu[ours]!),
  };
}

/**
 * Appends one store's measurement to the results gathered so far.
 *
 * @example
 * mergeInto(results, await measureStore(kind, populations, options, log));
 */
export function mergeInto(results: Pick<BenchResults, "rows" | "scaling" | "pairs" | "rounds">, part: StoreMeasurement): void {
  results.rows.push(...part.rows);
  results.scaling.push(...part.scaling);
  results.pairs.push(...part.pairs);
  Object.assign(results.rounds.wall, part.rounds.wall);
  Object.assign(results.rounds.cpu, part.rounds.cpu);
}

function operationRows(store: string, operation: Operation, sizes: readonly number[], clocks: Clocks): OperationRow[] {
  return sizes.map((size) => ({ store, operation, size, ...comparison(clocks, `ours@${size}`, `baseline@${size}`) }));
}

function growthRow(store: string, operation: Operation, from: number, to: number, { wall, cpu }: Clocks): ScalingRow {
  return {
    store,
    operation,
    from,
    to,
    ours: pairedRatio(wall[`ours@${to}`]!, wall[`ours@${from}`]!),
    baseline: pairedRatio(wall[`baseline@${to}`]!, wall[`baseline@${from}`]!),
    oursCpu: pairedRatio(cpu[`ours@${to}`]!, cpu[`ours@${from}`]!),
  };
}

/** The last page through the cursor against the same page found by position. */
async function keysetRow(kind: StoreKind, opened: OpenedStore, population: Population, lastPage: OperationPair, options: HarnessOptions) {
  const { raw } = opened;
  const offset = population.listed.length - PAGE;
  const byPosition = await raw.listWithoutKeyset(ACCOUNT, offset, PAGE + 1);
  if (byPosition.length !== PAGE || byPosition[0]!.client_id !== population.listed[offset]!.client_id) {
    throw new Error(`${kind.label}: the page found by position is not the account's last page`);
  }
  const clocks = await interleave({ ours: lastPage.ours, baseline: { run: () => raw.listWithoutKeyset(ACCOUNT, offset, PAGE + 1) } }, options);
  const name = `list last page, keyset vs without, ${kind.label}, ${population.size} clients`;
  return { clocks, row: pairRow(name, kind.key, "registry.list with the cursor", raw.withoutKeyset, clocks) };
}

/** The token endpoint's secret check against the plain lookup it starts with. */
async function authenticateRow(kind: StoreKind, registry: OAuthClientRegistry, population: Population, options: HarnessOptions) {
  const random = seededRandom(99);
  const pick = () => population.authPool[Math.floor(random() * population.authPool.length)]!.client_id;
  const clocks = await interleave(
    { ours: { run: () => registry.authenticate(pick(), SECRET) }, baseline: { run: () => registry.findClient(pick()) } },
    options,
  );
  const name = `authenticate ÷ findClient, ${kind.label}, ${population.size} clients`;
  return { clocks, row: pairRow(name, kind.key, "registry.authenticate (right secret)", "registry.findClient", clocks) };
}

/**
 * Opens the store at every size, checks it and its baseline, measures
 * every operation with all sizes interleaved in the same rounds, then
 * closes it.
 *
 * @example
 * const { rows, scaling } = await measureStore(kind, populations, { rounds: 9, roundMs: 20 }, console.error);
 */
export async function measureStore(
  kind: StoreKind,
  populations: ReadonlyMap<number, Population>,
  options: HarnessOptions,
  log: (line: string) => void,
): Promise<StoreMeasurement> {
  const sizes = [...populations.keys()].sort((a, b) => a - b);
  const smallest = sizes[0]!;
  const largest = sizes.at(-1)!;
  const result: StoreMeasurement = { rows: [], scaling: [], pairs: [], rounds: { wall: {}, cpu: {} }, baseline: "" };
  const opened = new Map<number, OpenedStore>();
  try {
    for (const size of sizes) {
      opened.set(size, await kind.open(populations.get(size)!));
      log(`${kind.label}: ${size} clients loaded`);
    }
    result.baseline = opened.get(largest)!.raw.describes;
    const probe = opened.get(smallest)!.sqlProbe;
    if (probe) {
      result.sqlNotInBaseline = await sqlNotInBaseline(probe, populations.get(smallest)!);
      if (result.sqlNotInBaseline.length > 0) log(`${kind.label}: the adapter sent SQL the baseline does not: ${result.sqlNotInBaseline.join(" | ")}`);
    }
    const registries = new Map(sizes.map((size) => [size, createOAuthClientRegistry(opened.get(size)!.store)]));
    for (const size of sizes) {
      await checkOperations(registries.get(size)!, opened.get(size)!.raw, populations.get(size)!, `${kind.label} at ${size}`);
      // Steady state: the authentication rows' clients have a fresh last-use time, as at a busy token endpoint.
      for (const client of populations.get(size)!.authPool) await registries.get(size)!.authenticate(client.client_id, SECRET);
    }
    const workloads = new Map(
      sizes.map((size, i) => {
        const { store, raw } = opened.get(size)!;
        return [size, operationPairs(registries.get(size)!, store, raw, populations.get(size)!, seededRandom(1 + i))];
      }),
    );
    for (const operation of OPERATIONS) {
      const variants = Object.fromEntries(
        sizes.flatMap((size) => [
          [`ours@${size}`, workloads.get(size)![operation].ours],
          [`baseline@${size}`, workloads.get(size)![operation].baseline],
        ]),
      );
      const clocks = await interleave(variants, options);
      recordRounds(result.rounds, `${kind.key}/${operation}`, clocks);
      result.rows.push(...operationRows(kind.key, operation, sizes, clocks));
      if (largest !== smallest) result.scaling.push(growthRow(kind.key, operation, smallest, largest, clocks));
      const r = result.rows.at(-1)!;
      log(`${kind.label}: ${operation}: ours ${r.oursCpuUs.median.toFixed(2)} µs, baseline ${r.baselineCpuUs.median.toFixed(2)} µs CPU at ${largest}`);
    }
    const population = populations.get(largest)!;
    const keyset = await keysetRow(kind, opened.get(largest)!, population, workloads.get(largest)!["list last page"], options);
    recordRounds(result.rounds, `${kind.key}/list-last-page-without-keyset`, keyset.clocks);
    const auth = await authenticateRow(kind, registries.get(largest)!, population, options);
    recordRounds(result.rounds, `${kind.key}/authenticate-vs-findClient`, auth.clocks);
    result.pairs.push(keyset.row, auth.row);
    return result;
  } finally {
    for (const o of opened.values()) await o.close();
    await kind.dispose();
  }
}
