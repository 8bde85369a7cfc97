/**
 * The results of a run: their JSON shape, the console table, and the
 * Markdown block that docs/benchmarks.md shows between its markers.
 */
import type { Spread } from "./harness.js";

/** Ours against a baseline: the cost of each, and the speed ratio, on both clocks. */
export interface Comparison {
  /** µs per call, wall time. */
  oursUs: Spread;
  baselineUs: Spread;
  /** µs per call, CPU time. */
  oursCpuUs: Spread;
  baselineCpuUs: Spread;
  /** Per-round baseline time ÷ our time: 1 is as fast as the baseline, 0.5 takes twice as long. */
  speed: Spread;
  /** The same on CPU time. */
  speedCpu: Spread;
}

/** One operation on one store at one size. */
export interface OperationRow extends Comparison {
  store: string;
  operation: string;
  size: number;
}

/** Cost at the largest size ÷ cost at the smallest, per round, for one store and operation. */
export interface ScalingRow {
  store: string;
  operation: string;
  from: number;
  to: number;
  ours: Spread;
  baseline: Spread;
  /** Ours on CPU time. */
  oursCpu: Spread;
}

/** A comparison outside the store × operation grid (HTTP, authenticate ÷ findClient). */
export interface PairRow extends Comparison {
  name: string;
  store: string;
  ours: string;
  baseline: string;
}

/** A target of issue 10 and where the run put it. */
export interface TargetRow {
  what: string;
  target: string;
  /** On wall time, as the issue states its targets. */
  measured: Spread;
  measuredCpu: Spread;
  met: boolean;
  metCpu: boolean;
}

/** Everything one run writes to bench/results/*.json. */
export interface BenchResults {
  meta: {
    date: string;
    command: string;
    quick: boolean;
    node: string;
    cpu: string;
    cores: number;
    rounds: number;
    roundMs: number;
    sizes: number[];
    seconds: number;
    /** 1-minute load average when the run started: how busy the machine was. */
    loadAverage: number;
    /** Rows measured in another runtime (node:sqlite, bun:sqlite): which one, and the command that ran there. */
    runtimes?: { driver: string; runtime: string; command: string }[];
  };
  stores: {
    key: string;
    label: string;
    durability: string;
    ours: string;
    baseline: string;
    /** Kysely stores: SQL the adapter sent that its baseline does not (empty: the same SQL). */
    sqlNotInBaseline?: string[];
    /** Why the store has no rows in this run (its runtime could not be installed or started). */
    notRun?: string;
  }[];
  baselineWork: Record<string, string>;
  rows: OperationRow[];
  scaling: ScalingRow[];
  pairs: PairRow[];
  footprint: { clients: number; memoryStoreBytesPerClient: number; plainMapBytesPerClient: number } | null;
  targets: TargetRow[];
  /** Per-round µs of every variant, keyed "store/operation/variant", on each clock. */
  rounds: { wall: Record<string, number[]>; cpu: Record<string, number[]> };
}

/** The block of docs/benchmarks.md the benchmark rewrites. */
export const DOCS_BEGIN = "<!-- bench:results:begin (written by `npm run bench`; edits inside are overwritten) -->";
export const DOCS_END = "<!-- bench:results:end -->";

function us(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} ms`;
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Median and interquartile range: the middle half of the rounds, which one disturbed round cannot stretch. */
function ratio(s: Spread): string {
  const f = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return `${f(s.median)} (${f(s.q1)}–${f(s.q3)})`;
}

function sizeLabel(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

/** A Markdown table whose first `textColumns` columns are left-aligned and the rest (numbers) right-aligned. */
function table(header: string[], rows: string[][], textColumns: number): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i < textColumns ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/**
 * The tables of a run as Markdown (the docs block and the console print the same).
 *
 * @example
 * console.log(markdownTables(JSON.parse(readFileSync("bench/results/latest.json", "utf8"))));
 */
export function markdownTables(results: BenchResults): string {
  const largest = Math.max(...results.meta.sizes);
  const smallest = Math.min(...results.meta.sizes);
  const labelOf = new Map(results.stores.map((s) => [s.key, s.label]));
  const lines: string[] = [];
  const m = results.meta;
  lines.push(
    `Run ${m.date} on ${m.cpu} (${m.cores} cores), Node.js ${m.node}: \`${m.command}\`, ` +
      `${m.rounds} interleaved rounds of ~${m.roundMs} ms per variant, ${m.seconds.toFixed(0)} s in all; ` +
      `load average ${m.loadAverage.toFixed(1)} when it started.`,
    "",
    "Stores and the durability their numbers were taken under:",
    "",
    ...results.stores.map((s) => {
      const sql =
        s.sqlNotInBaseline === undefined
          ? ""
          : s.sqlNotInBaseline.length === 0
            ? " The baseline's SQL was checked against what the adapter sent in this run: the same."
            : ` **The adapter sent SQL the baseline does not:** ${s.sqlNotInBaseline.map((q) => `\`${q}\``).join("; ")}.`;
      if (s.notRun !== undefined) return `- **${s.label}**: **not run**: ${s.notRun}.`;
      return `- **${s.label}**: durability ${s.durability}; ours: ${s.ours}; baseline: ${s.baseline}.${sql}`;
    }),
    "",
  );
  if (results.targets.length > 0) {
    lines.push("**Targets** (issue 10, issue 16 for the SQLite drivers, issue 20 for private_key_jwt)", "");
    lines.push(
      ...table(
        ["path", "measured (wall)", "measured (CPU)", "target", "met (wall / CPU)"],
        results.targets.map((t) => [t.what, ratio(t.measured), ratio(t.measuredCpu), t.target, `${t.met ? "yes" : "**no**"} / ${t.metCpu ? "yes" : "**no**"}`]),
        1,
      ),
      "",
    );
  }
  lines.push(`**Every operation at ${sizeLabel(largest)} clients**, and how its cost grows from ${sizeLabel(smallest)} to ${sizeLabel(largest)} clients`, "");
  const scaling = new Map(results.scaling.map((s) => [`${s.store}/${s.operation}`, s]));
  lines.push(
    ...table(
      [
        "store",
        "operation",
        "ours µs (wall / CPU)",
        "baseline µs (wall / CPU)",
        "speed (wall)",
        "speed (CPU)",
        `ours ${sizeLabel(largest)}÷${sizeLabel(smallest)} (wall)`,
        `ours ${sizeLabel(largest)}÷${sizeLabel(smallest)} (CPU)`,
        `baseline ${sizeLabel(largest)}÷${sizeLabel(smallest)}`,
      ],
      results.rows
        .filter((r) => r.size === largest)
        .map((r) => {
          const s = scaling.get(`${r.store}/${r.operation}`);
          return [
            labelOf.get(r.store) ?? r.store,
            r.operation,
            `${us(r.oursUs.median)} / ${us(r.oursCpuUs.median)}`,
            `${us(r.baselineUs.median)} / ${us(r.baselineCpuUs.median)}`,
            ratio(r.speed),
            ratio(r.speedCpu),
            s ? ratio(s.ours) : "–",
            s ? ratio(s.oursCpu) : "–",
            s ? ratio(s.baseline) : "–",
          ];
        }),
      2,
    ),
    "",
  );
  lines.push("**HTTP and other paths**", "");
  lines.push(
    ...table(
      ["path", "ours", "baseline", "ours µs (wall / CPU)", "baseline µs (wall / CPU)", "speed (wall)", "speed (CPU)"],
      results.pairs.map((p) => [
        p.name,
        p.ours,
        p.baseline,
        `${us(p.oursUs.median)} / ${us(p.oursCpuUs.median)}`,
        `${us(p.baselineUs.median)} / ${us(p.baselineCpuUs.median)}`,
        ratio(p.speed),
        ratio(p.speedCpu),
      ]),
      3,
    ),
    "",
  );
  if (results.footprint) {
    const f = results.footprint;
    lines.push(
      `**Memory footprint** at ${f.clients.toLocaleString("en")} clients: the memory store holds ` +
        `${f.memoryStoreBytesPerClient.toLocaleString("en")} heap bytes per client, a plain Map of the same records ` +
        `${f.plainMapBytesPerClient.toLocaleString("en")} (${(f.memoryStoreBytesPerClient / f.plainMapBytesPerClient).toFixed(2)}×).`,
      "",
    );
  }
  lines.push(
    "µs are medians per call on each clock. Speed is the median of the per-round ratios baseline time ÷ our time " +
      "(1 = as fast as the baseline, 0.5 = twice its time), with the interquartile range of the rounds in parentheses " +
      "(bench/results/latest.json has every round, and the min and max), " +
      "on wall time and on this process's CPU time (which other processes disturb less, and which leaves out " +
      "waiting for fsync or for the HTTP client). Growth columns are the median of the per-round ratios of the cost " +
      "at the largest size to the cost at the smallest (1 = flat).",
  );
  return lines.join("\n");
}

/**
 * Replaces the marker block of `docs` with `block`; throws if the markers are missing.
 *
 * @example
 * writeFileSync(file, replaceDocsBlock(readFileSync(file, "utf8"), markdownTables(results)));
 */
export function replaceDocsBlock(docs: string, block: string): string {
  const begin = docs.indexOf(DOCS_BEGIN);
  const end = docs.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error("docs/benchmarks.md lacks the bench:results markers");
  return `${docs.slice(0, begin + DOCS_BEGIN.length)}\n\n${block}\n\n${docs.slice(end)}`;
}

function target(what: string, wanted: string, measured: [Spread, Spread] | undefined, met: (median: number) => boolean): TargetRow[] {
  if (!measured) return [];
  const [wall, cpu] = measured;
  return [{ what, target: wanted, measured: wall, measuredCpu: cpu, met: met(wall.median), metCpu: met(cpu.median) }];
}

/** The SQLite store's rows on each driver: store key, driver. */
const SQLITE_DRIVER_STORES = [
  ["sqlite-full", "better-sqlite3"],
  ["node-sqlite", "node:sqlite"],
  ["bun-sqlite", "bun:sqlite"],
] as const;

/**
 * The targets of issue 10, read off a run's rows (a target whose rows the
 * run did not measure, e.g. with `--stores`, is left out).
 *
 * @example
 * issueTargets(rows, scaling, pairs).filter((t) => !t.met).map((t) => t.what);
 */
export function issueTargets(rows: readonly OperationRow[], scaling: readonly ScalingRow[], pairs: readonly PairRow[]): TargetRow[] {
  const speeds = (p: PairRow | OperationRow | undefined): [Spread, Spread] | undefined => (p ? [p.speed, p.speedCpu] : undefined);
  const pair = (name: string) => speeds(pairs.find((p) => p.name === name));
  const largest = Math.max(...rows.map((r) => r.size));
  const memoryDelete = scaling.find((s) => s.store === "memory" && s.operation === "delete");
  return [
    ...target("HTTP GET one client vs bare node:http (speed)", "≥ 0.5", pair("HTTP GET one client"), (m) => m >= 0.5),
    ...target("HTTP POST create vs bare node:http (speed)", "≥ 0.3", pair("HTTP POST create"), (m) => m >= 0.3),
    ...target("in-process fetch GET vs registry.get (speed)", "≥ 0.5", pair("in-process fetch GET"), (m) => m >= 0.5),
    ...target(
      "in-process fetch GET on requests built once vs registry.get (speed)",
      "≥ 0.5",
      pair("in-process fetch GET, requests built once"),
      (m) => m >= 0.5,
    ),
    ...target(
      `Kysely + SQLite get vs raw prepared SELECT (speed, ${largest} clients)`,
      "≥ 0.6",
      speeds(rows.find((r) => r.store === "kysely-sqlite" && r.operation === "get" && r.size === largest)),
      (m) => m >= 0.6,
    ),
    ...target(
      `Kysely + SQLite with cacheSqliteStatements, get vs raw prepared SELECT (speed, ${largest} clients)`,
      "≥ 0.6",
      speeds(rows.find((r) => r.store === "kysely-sqlite-cached" && r.operation === "get" && r.size === largest)),
      (m) => m >= 0.6,
    ),
    // Issue 16: the SQLite store's get keeps at least half the rate of its own driver's prepared SELECT, on every driver.
    ...SQLITE_DRIVER_STORES.flatMap(([store, driver]) =>
      target(
        `SQLite store on ${driver}, get vs raw prepared SELECT on ${driver} (speed, ${largest} clients)`,
        "≥ 0.5",
        speeds(rows.find((r) => r.store === store && r.operation === "get" && r.size === largest)),
        (m) => m >= 0.5,
      ),
    ),
    ...target(
      `memory store delete, cost at ${memoryDelete?.to} ÷ cost at ${memoryDelete?.from}`,
      "≤ 1.5",
      memoryDelete ? [memoryDelete.ours, memoryDelete.oursCpu] : undefined,
      (m) => m <= 1.5,
    ),
    ...assertionTargets(pairs),
    ...target(
      `authenticate vs findClient (speed, memory store, ${largest} clients)`,
      "≥ 0.7",
      speeds(pairs.find((p) => p.store === "memory" && p.name.startsWith("authenticate"))),
      (m) => m >= 0.7,
    ),
  ];
}

/**
 * The private_key_jwt target of issue 20: a forged assertion against the
 * worst key set the rules admit costs at most 3× a valid one against a
 * one-key client, i.e. a speed (valid time ÷ forged time) of at least 1/3.
 *
 * @example
 * assertionTargets(pairs).every((t) => t.met);
 */
export function assertionTargets(pairs: readonly PairRow[]): TargetRow[] {
  return pairs
    .filter((p) => p.name.startsWith("private_key_jwt forged"))
    .flatMap((p) => target(`${p.name} (speed: valid ÷ forged)`, "≥ 0.33 (forged ≤ 3× valid)", [p.speed, p.speedCpu], (m) => m >= 1 / 3));
}
