/**
 * The project's benchmark: every operation on every store against its
 * driver baseline, at several store sizes, plus the HTTP rows and the
 * memory footprint, in one run with interleaved rounds.
 *
 *   npm run bench                 full run (~3–5 min on 2 cores): prints the tables,
 *                                 writes bench/results/latest.json,
 *                                 docs/benchmark-scaling.svg and the results block of
 *                                 docs/benchmarks.md
 *   npm run bench -- --quick      smoke run (< 1 min): small sizes, few rounds;
 *                                 writes only bench/results/quick.json
 *
 * Options: --rounds N, --round-ms N, --sizes 1000,10000,100000,
 * --stores memory,sqlite-full,… (a subset, for a look at one store; the
 * docs are only rewritten by a full run of everything).
 * DATABASE_URL=postgres://… measures Kysely on that server instead of PGlite.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createOAuthClientRegistry } from "../src/index.js";
import { interleave, pairedRatio, seededRandom, spread, type Clocks, type HarnessOptions, type Spread } from "./harness.js";
import { measureHttp } from "./http.js";
import { BASELINE_WORK, checkOperations, OPERATIONS, operationPairs } from "./operations.js";
import { scalingSvg, type PlotPanel } from "./plot.js";
import { ACCOUNT, makePopulation, PAGE, SECRET, type Population } from "./population.js";
import { markdownTables, replaceDocsBlock, type BenchResults, type OperationRow, type PairRow, type ScalingRow, type TargetRow } from "./report.js";
import { storeKinds, type OpenedStore } from "./stores.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    "round-ms": { type: "string" },
    sizes: { type: "string" },
    stores: { type: "string" },
  },
});
const quick = values.quick!;
const options: HarnessOptions = {
  rounds: Number(values.rounds ?? (quick ? 5 : 9)),
  roundMs: Number(values["round-ms"] ?? (quick ? 6 : 20)),
};
const sizes = (values.sizes ?? (quick ? "1000,10000" : "1000,10000,100000")).split(",").map(Number).sort((a, b) => a - b);
if (sizes.some((s) => !Number.isInteger(s) || s < 1000)) throw new Error("--sizes takes integers of at least 1000");
const smallest = sizes[0]!;
const largest = sizes.at(-1)!;

const started = performance.now();
const loadAtStart = loadavg()[0]!;
const log = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    if (line) return line.split(":")[1]!.trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return cpus()[0]?.model ?? "unknown CPU";
}

const rows: OperationRow[] = [];
const scaling: ScalingRow[] = [];
const pairs: PairRow[] = [];
const allRounds: BenchResults["rounds"] = { wall: {}, cpu: {} };
const baselineOf = new Map<string, string>();

function record(prefix: string, clocks: Clocks): void {
  for (const clock of ["wall", "cpu"] as const) {
    for (const [variant, list] of Object.entries(clocks[clock])) allRounds[clock][`${prefix}/${variant}`] = list.map((v) => Number(v.toFixed(3)));
  }
}

function pairRow(name: string, store: string, ours: string, baseline: string, { wall, cpu }: Clocks): PairRow {
  return {
    name,
    store,
    ours,
    baseline,
    oursUs: spread(wall.ours!),
    baselineUs: spread(wall.baseline!),
    speed: pairedRatio(wall.baseline!, wall.ours!),
    speedCpu: pairedRatio(cpu.baseline!, cpu.ours!),
  };
}

const dir = mkdtempSync(join(tmpdir(), "ocr-bench-"));
const kinds = storeKinds(dir, process.env.DATABASE_URL).filter((k) => values.stores === undefined || values.stores.split(",").includes(k.key));
const populations = new Map<number, Population>(sizes.map((size) => [size, makePopulation(size)]));
log(`populations of ${sizes.join(", ")} clients ready; stores: ${kinds.map((k) => k.key).join(", ")}`);

try {
  for (const kind of kinds) {
    const opened = new Map<number, OpenedStore>();
    try {
      for (const size of sizes) {
        opened.set(size, await kind.open(populations.get(size)!));
        baselineOf.set(kind.key, opened.get(size)!.raw.describes);
        log(`${kind.label}: ${size} clients loaded`);
      }
      const registries = new Map(sizes.map((size) => [size, createOAuthClientRegistry(opened.get(size)!.store)]));
      for (const size of sizes) await checkOperations(registries.get(size)!, opened.get(size)!.raw, populations.get(size)!, `${kind.label} at ${size}`);
      const workloads = new Map(
        sizes.map((size, i) => {
          const o = opened.get(size)!;
          return [size, operationPairs(registries.get(size)!, o.store, o.raw, populations.get(size)!, seededRandom(1 + i))];
        }),
      );
      const workloadsAt = (size: number) => workloads.get(size)!;
      for (const operation of OPERATIONS) {
        const variants = Object.fromEntries(
          sizes.flatMap((size) => [
            [`ours@${size}`, workloads.get(size)![operation].ours],
            [`baseline@${size}`, workloads.get(size)![operation].baseline],
          ]),
        );
        const clocks = await interleave(variants, options);
        record(`${kind.key}/${operation}`, clocks);
        const { wall, cpu } = clocks;
        for (const size of sizes) {
          const [ours, baseline] = [`ours@${size}`, `baseline@${size}`];
          rows.push({
            store: kind.key,
            operation,
            size,
            oursUs: spread(wall[ours]!),
            baselineUs: spread(wall[baseline]!),
            oursCpuUs: spread(cpu[ours]!),
            baselineCpuUs: spread(cpu[baseline]!),
            speed: pairedRatio(wall[baseline]!, wall[ours]!),
            speedCpu: pairedRatio(cpu[baseline]!, cpu[ours]!),
          });
        }
        if (largest !== smallest) {
          scaling.push({
            store: kind.key,
            operation,
            from: smallest,
            to: largest,
            ours: pairedRatio(wall[`ours@${largest}`]!, wall[`ours@${smallest}`]!),
            baseline: pairedRatio(wall[`baseline@${largest}`]!, wall[`baseline@${smallest}`]!),
            oursCpu: pairedRatio(cpu[`ours@${largest}`]!, cpu[`ours@${smallest}`]!),
          });
        }
        const r = rows.at(-1)!;
        log(`${kind.label}: ${operation}: ours ${r.oursUs.median.toFixed(2)} µs, baseline ${r.baselineUs.median.toFixed(2)} µs at ${largest}`);
      }
      // What keyset pagination saves: the same last page found by position.
      const population = populations.get(largest)!;
      const raw = opened.get(largest)!.raw;
      const registry = registries.get(largest)!;
      const offset = population.listed.length - PAGE;
      const byOffset = await raw.listWithoutKeyset(ACCOUNT, offset, PAGE + 1);
      if (byOffset.length !== PAGE || byOffset[0]!.client_id !== population.listed[offset]!.client_id) {
        throw new Error(`${kind.label}: the page without keyset is not the account's last page`);
      }
      const paging = await interleave(
        {
          ours: workloadsAt(largest)["list last page"].ours,
          baseline: { run: () => raw.listWithoutKeyset(ACCOUNT, offset, PAGE + 1) },
        },
        options,
      );
      record(`${kind.key}/list-last-page-without-keyset`, paging);
      pairs.push(
        pairRow(`list last page, keyset vs without, ${kind.label}, ${largest} clients`, kind.key, "registry.list with the cursor", raw.withoutKeyset, paging),
      );
      // The token endpoint's check against the plain lookup it starts with.
      const pool = population.readPool;
      const random = seededRandom(99);
      const pick = () => pool[Math.floor(random() * pool.length)]!.client_id;
      const costs = await interleave(
        { ours: { run: () => registry.authenticate(pick(), SECRET) }, baseline: { run: () => registry.findClient(pick()) } },
        options,
      );
      record(`${kind.key}/authenticate-vs-findClient`, costs);
      pairs.push(pairRow(`authenticate ÷ findClient, ${kind.label}, ${largest} clients`, kind.key, "registry.authenticate (right secret)", "registry.findClient", costs));
    } finally {
      for (const o of opened.values()) await o.close();
      await kind.dispose();
    }
  }

  log("HTTP rows");
  const http = await measureHttp(smallest, { rounds: options.rounds, roundMs: options.roundMs * 8 });
  for (const h of http) {
    record(`http/${h.name}`, h.costs);
    pairs.push(pairRow(h.name, "memory", h.ours, h.baseline, h.costs));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

log(`memory footprint at ${largest} clients`);
const probe = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, "footprint.ts"), "--clients", String(largest)], {
  encoding: "utf8",
  cwd: root,
});
if (probe.status !== 0) throw new Error(`footprint probe failed: ${probe.stderr}`);
const footprint = JSON.parse(probe.stdout.trim().split("\n").at(-1)!) as BenchResults["footprint"];

function target(what: string, wanted: string, measured: [Spread, Spread] | undefined, met: (median: number) => boolean): TargetRow[] {
  if (!measured) return [];
  const [wall, cpu] = measured;
  return [{ what, target: wanted, measured: wall, measuredCpu: cpu, met: met(wall.median), metCpu: met(cpu.median) }];
}
const speeds = (p: PairRow | OperationRow | undefined): [Spread, Spread] | undefined => (p ? [p.speed, p.speedCpu] : undefined);
const pair = (name: string) => speeds(pairs.find((p) => p.name === name));
const memoryDelete = scaling.find((s) => s.store === "memory" && s.operation === "delete");
const targets: TargetRow[] = [
  ...target("HTTP GET one client vs bare node:http (speed)", "≥ 0.5", pair("HTTP GET one client"), (m) => m >= 0.5),
  ...target("HTTP POST create vs bare node:http (speed)", "≥ 0.3", pair("HTTP POST create"), (m) => m >= 0.3),
  ...target("in-process fetch GET vs registry.get (speed)", "≥ 0.5", pair("in-process fetch GET"), (m) => m >= 0.5),
  ...target(
    `Kysely + SQLite get vs raw prepared SELECT (speed, ${largest} clients)`,
    "≥ 0.6",
    speeds(rows.find((r) => r.store === "kysely-sqlite" && r.operation === "get" && r.size === largest)),
    (m) => m >= 0.6,
  ),
  ...target(
    `memory store delete, cost at ${largest} ÷ cost at ${smallest}`,
    "≤ 1.5",
    memoryDelete ? [memoryDelete.ours, memoryDelete.oursCpu] : undefined,
    (m) => m <= 1.5,
  ),
  ...target(
    `authenticate vs findClient (speed, memory store, ${largest} clients)`,
    "≥ 0.7",
    speeds(pairs.find((p) => p.store === "memory" && p.name.startsWith("authenticate"))),
    (m) => m >= 0.7,
  ),
];

const results: BenchResults = {
  meta: {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    quick,
    node: process.version,
    cpu: cpuModel(),
    cores: cpus().length,
    rounds: options.rounds,
    roundMs: options.roundMs,
    sizes,
    seconds: (performance.now() - started) / 1000,
    loadAverage: loadAtStart,
  },
  stores: kinds.map((k) => ({ key: k.key, label: k.label, durability: k.durability, ours: k.ours, baseline: "" })),
  baselineWork: BASELINE_WORK,
  rows,
  scaling,
  pairs,
  footprint,
  targets,
  rounds: allRounds,
};
// What each store's baseline is, as its RawStore described itself.
for (const s of results.stores) s.baseline = baselineOf.get(s.key) ?? "";

const tables = markdownTables(results);
console.log(`\n${tables}\n`);
mkdirSync(join(here, "results"), { recursive: true });
const jsonFile = join(here, "results", quick ? "quick.json" : "latest.json");
writeFileSync(jsonFile, `${JSON.stringify(results, null, 1)}\n`);
log(`wrote ${jsonFile}`);

const complete = !quick && values.stores === undefined && values.sizes === undefined;
if (complete) {
  const panels: PlotPanel[] = (["get", "list last page", "delete"] as const).map((operation) => ({
    title: operation === "list last page" ? `list: last page of ${PAGE}` : operation,
    series: kinds.flatMap((k) =>
      (["ours", "baseline"] as const).map((side) => ({
        store: k.label,
        side,
        points: rows
          .filter((r) => r.store === k.key && r.operation === operation)
          .map((r) => ({ size: r.size, us: (side === "ours" ? r.oursCpuUs : r.baselineCpuUs).median })),
      })),
    ),
  }));
  const svgFile = join(root, "docs", "benchmark-scaling.svg");
  writeFileSync(svgFile, scalingSvg(panels, `${results.meta.command} · ${results.meta.date} · ${results.meta.cpu}, Node.js ${results.meta.node}`));
  const docsFile = join(root, "docs", "benchmarks.md");
  writeFileSync(docsFile, replaceDocsBlock(readFileSync(docsFile, "utf8"), tables));
  log(`wrote ${svgFile} and the results block of ${docsFile}`);
}
log("done");
