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
 * docs are only rewritten by a full run of everything). Without --stores a
 * run also measures the SQLite store on node:sqlite and bun:sqlite, in
 * their own runtimes (bench/sqlite-runtimes.ts).
 *
 *   npm run bench -- --only workers
 *                                 only the serve --workers rows (~1 min): list page, GET, POST
 *                                 at --workers 1 and 2; writes bench/results/workers.json
 *   npm run bench -- --only assertions
 *                                 only the private_key_jwt rows (~1 min): a forged
 *                                 assertion against the worst key set the rules
 *                                 admit next to a valid one; writes
 *                                 bench/results/assertions.json
 *   npm run bench -- --only hot-paths
 *                                 only the hot-path rows (~30 s): a metadata-document
 *                                 client against a stored id, authenticateAssertion
 *                                 against jose's jwtVerify alone; writes
 *                                 bench/results/hot-paths.json
 *   npm run bench -- --only registration
 *                                 only the registration row (~1 min): POST /register on
 *                                 the memory store against node-oidc-provider 9's
 *                                 registration endpoint; writes bench/results/registration.json
 *   npm run bench -- --only sqlite-drivers
 *                                 only the SQLite store on better-sqlite3, node:sqlite (under
 *                                 Node 22) and bun:sqlite (under Bun), each against its own
 *                                 driver's prepared statements (~2 min; installs Node 22 and
 *                                 Bun from npm on first use); writes bench/results/sqlite-drivers.json
 * DATABASE_URL=postgres://… measures Kysely on that server instead of PGlite.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { measureAssertions } from "./assertions.js";
import { measureHotPaths } from "./hot-paths.js";
import { measureStore, mergeInto, pairRow, recordRounds } from "./grid.js";
import type { HarnessOptions } from "./harness.js";
import { measureHttp } from "./http.js";
import { BASELINE_WORK } from "./operations.js";
import { scalingSvg, type PlotPanel } from "./plot.js";
import { makePopulation, PAGE, type Population } from "./population.js";
import { assertionTargets, issueTargets, markdownTables, replaceDocsBlock, type BenchResults, type OperationRow, type PairRow, type ScalingRow } from "./report.js";
import { measureSqliteDrivers, onlySqliteDrivers } from "./sqlite-runtimes.js";
import { storeKinds } from "./stores.js";
import { measureRegistration, REGISTRATION_CONCURRENCY } from "./registration.js";
import { measureWorkers, workersTable } from "./workers.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    "round-ms": { type: "string" },
    sizes: { type: "string" },
    stores: { type: "string" },
    only: { type: "string" },
  },
});
const ONLY = ["assertions", "workers", "hot-paths", "registration", "sqlite-drivers"];
if (values.only !== undefined && !ONLY.includes(values.only)) {
  throw new Error(`unknown --only ${values.only}; known: ${ONLY.join(", ")}`);
}
const quick = values.quick!;
const options: HarnessOptions = {
  rounds: Number(values.rounds ?? (quick ? 5 : 11)),
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

if (values.only === "assertions") {
  await onlyAssertions();
  process.exit(0);
}
if (values.only === "hot-paths") {
  await onlyHotPaths();
  process.exit(0);
}
if (values.only === "sqlite-drivers") {
  await onlySqliteDrivers({ quick, sizes, options, meta: () => ({ ...onlyRunMeta(options), quick, sizes }) }, log);
  process.exit(0);
}

/** The `meta` of a results file written by an `--only` run. */
function onlyRunMeta(options: HarnessOptions) {
  return {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    command: ["npm run bench", "--", ...process.argv.slice(2)].join(" "),
    node: process.version,
    cpu: cpuModel(),
    cores: cpus().length,
    rounds: options.rounds,
    roundMs: options.roundMs,
    seconds: (performance.now() - started) / 1000,
    loadAverage: loadAtStart,
  };
}

/** The hot-path rows alone, with their own results file. */
async function onlyHotPaths(): Promise<void> {
  const hotOptions: HarnessOptions = {
    rounds: Number(values.rounds ?? (quick ? 5 : 11)),
    roundMs: Number(values["round-ms"] ?? (quick ? 20 : 60)),
  };
  const rows: (PairRow & { target: number; met: boolean; metCpu: boolean })[] = [];
  const f = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
  for (const h of await measureHotPaths(hotOptions)) {
    const row = pairRow(h.name, "memory", h.ours, h.baseline, h.costs);
    rows.push({ ...row, target: h.target, met: row.speed.median >= h.target, metCpu: row.speedCpu.median >= h.target });
    log(h.name);
    console.log(
      `${h.name}\n  ours:     ${h.ours}: ${f(row.oursUs.median)} µs wall / ${f(row.oursCpuUs.median)} µs CPU\n` +
        `  baseline: ${h.baseline}: ${f(row.baselineUs.median)} µs wall / ${f(row.baselineCpuUs.median)} µs CPU\n` +
        `  rate ÷ baseline rate: ${f(row.speed.median)} wall (IQR ${f(row.speed.q1)}–${f(row.speed.q3)}), ${f(row.speedCpu.median)} CPU; ` +
        `target ≥ ${h.target}: ${row.speed.median >= h.target ? "met" : "NOT met"}`,
    );
  }
  const report = {
    meta: onlyRunMeta(hotOptions),
    pairs: rows,
  };
  mkdirSync(join(here, "results"), { recursive: true });
  const file = join(here, "results", quick ? "hot-paths-quick.json" : "hot-paths.json");
  writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
  log(`wrote ${file}`);
}

/** The `serve --workers` rows (bench/workers.ts), with their own results file. */
async function workerRows(): Promise<void> {
  const workerRounds = Number(values.rounds ?? (quick ? 3 : 7));
  const rows = await measureWorkers({ rounds: workerRounds, requests: quick ? 1000 : 3000 }, log);
  console.log(`\nserve --workers on ${cpus().length} cores (${cpuModel()}), load generator on the same machine:\n${workersTable(rows)}\n`);
  const listRow = rows[0]!;
  console.log(`target list page of 100 at --workers 2 ≥ 1.5× --workers 1: ${listRow.ratio >= 1.5 ? "met" : "NOT met"} (${listRow.ratio.toFixed(2)}×)`);
  mkdirSync(join(here, "results"), { recursive: true });
  const file = join(here, "results", quick ? "workers-quick.json" : "workers.json");
  const meta = { date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", node: process.version, cpu: cpuModel(), cores: cpus().length, loadAverage: loadavg()[0]!, rounds: workerRounds };
  writeFileSync(file, `${JSON.stringify({ meta, rows }, null, 1)}\n`);
  log(`wrote ${file}`);
}

if (values.only === "workers") {
  await workerRows();
  process.exit(0);
}

/** The registration row (bench/registration.ts), with its own results file. */
async function registrationRow(): Promise<void> {
  const rounds = Number(values.rounds ?? (quick ? 3 : 11));
  const requests = quick ? 500 : 3000;
  const row = await measureRegistration({ rounds, requests }, log);
  const f = (v: number) => v.toFixed(2);
  const us = (v: number | null) => (v === null ? "–" : v.toFixed(0));
  console.log(
    `\n${row.name}\n  ours:     ${row.ours}: ${row.oursRate.toFixed(0)} req/s, server CPU ${us(row.cpuUsPerRequest.ours)} µs per request\n` +
      `  baseline: ${row.baseline}: ${row.baselineRate.toFixed(0)} req/s, server CPU ${us(row.cpuUsPerRequest.baseline)} µs per request\n` +
      `  rate ÷ baseline rate: ${f(row.speed.median)} (IQR ${f(row.speed.q1)}–${f(row.speed.q3)})` +
      `${row.speedCpu === null ? "" : `, baseline CPU ÷ ours ${f(row.speedCpu.median)} (IQR ${f(row.speedCpu.q1)}–${f(row.speedCpu.q3)})`}; ` +
      `target ≥ ${row.target}: ${row.met ? "met" : "NOT met"} (rate)${row.metCpu === null ? "" : ` / ${row.metCpu ? "met" : "NOT met"} (CPU)`}`,
  );
  mkdirSync(join(here, "results"), { recursive: true });
  const file = join(here, "results", quick ? "registration-quick.json" : "registration.json");
  const { roundMs: _roundMs, ...meta } = onlyRunMeta({ rounds, roundMs: 0 });
  const report = { meta: { ...meta, requestsPerRound: requests, concurrency: REGISTRATION_CONCURRENCY }, rows: [row] };
  writeFileSync(file, `${JSON.stringify(report, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, list: string) => `[${list.replace(/\s+/g, "")}]`)}\n`);
  log(`wrote ${file}`);
}

if (values.only === "registration") {
  await registrationRow();
  process.exit(0);
}

/** The private_key_jwt rows alone, with their own results file (the full results stay as the last full run left them). */
async function onlyAssertions(): Promise<void> {
  const assertionOptions: HarnessOptions = {
    rounds: Number(values.rounds ?? (quick ? 5 : 11)),
    roundMs: Number(values["round-ms"] ?? (quick ? 20 : 60)),
  };
  const rounds: BenchResults["rounds"] = { wall: {}, cpu: {} };
  const rows: PairRow[] = [];
  for (const a of await measureAssertions(assertionOptions)) {
    recordRounds(rounds, `assertions/${a.name}`, a.costs);
    rows.push(pairRow(a.name, "verifier", a.ours, a.baseline, a.costs));
    log(a.name);
  }
  const targets = assertionTargets(rows);
  const f = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
  for (const p of rows) {
    console.log(
      `${p.name}\n  ours:     ${p.ours}: ${f(p.oursUs.median)} µs wall / ${f(p.oursCpuUs.median)} µs CPU\n` +
        `  baseline: ${p.baseline}: ${f(p.baselineUs.median)} µs wall / ${f(p.baselineCpuUs.median)} µs CPU\n` +
        `  forged ÷ valid: ${f(1 / p.speed.median)} wall (IQR ${f(1 / p.speed.q3)}–${f(1 / p.speed.q1)}), ${f(1 / p.speedCpu.median)} CPU`,
    );
  }
  for (const t of targets) console.log(`target ${t.what} ${t.target}: ${t.met ? "met" : "NOT met"} (wall) / ${t.metCpu ? "met" : "NOT met"} (CPU)`);
  const report = {
    meta: onlyRunMeta(assertionOptions),
    pairs: rows,
    targets,
    rounds,
  };
  mkdirSync(join(here, "results"), { recursive: true });
  const file = join(here, "results", quick ? "assertions-quick.json" : "assertions.json");
  writeFileSync(file, `${JSON.stringify(report, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, list: string) => `[${list.replace(/\s+/g, "")}]`)}\n`);
  log(`wrote ${file}`);
}

const results = { rows: [] as OperationRow[], scaling: [] as ScalingRow[], pairs: [] as PairRow[], rounds: { wall: {}, cpu: {} } as BenchResults["rounds"] };
const { rows, scaling, pairs } = results;
const stores: BenchResults["stores"] = [];
const runtimes: NonNullable<BenchResults["meta"]["runtimes"]> = [];

const dir = mkdtempSync(join(tmpdir(), "ocr-bench-"));
const allKinds = storeKinds(dir, process.env.DATABASE_URL);
const wanted = values.stores?.split(",") ?? allKinds.map((k) => k.key);
const unknown = wanted.filter((key) => !allKinds.some((k) => k.key === key));
if (unknown.length > 0) throw new Error(`unknown --stores ${unknown.join(", ")}; known: ${allKinds.map((k) => k.key).join(", ")}`);
const kinds = allKinds.filter((k) => wanted.includes(k.key));
const populations = new Map<number, Population>(sizes.map((size) => [size, makePopulation(size)]));
log(`populations of ${sizes.join(", ")} clients ready; stores: ${kinds.map((k) => k.key).join(", ")}`);

try {
  for (const kind of kinds) {
    const measured = await measureStore(kind, populations, options, log);
    stores.push({
      key: kind.key,
      label: kind.label,
      durability: kind.durability,
      ours: kind.ours,
      baseline: measured.baseline,
      ...(measured.sqlNotInBaseline ? { sqlNotInBaseline: measured.sqlNotInBaseline } : {}),
    });
    mergeInto(results, measured);
  }
  if (values.stores === undefined) {
    log("SQLite store on node:sqlite (Node 22) and bun:sqlite (Bun)");
    const drivers = await measureSqliteDrivers(sizes, options, log);
    for (const d of drivers) {
      stores.push(d.store);
      if (d.measurement) mergeInto(results, d.measurement);
    }
    runtimes.push(...drivers.flatMap((d) => (d.runtime ? [d.runtime] : [])));
  }
  log("private_key_jwt rows");
  for (const a of await measureAssertions({ rounds: options.rounds, roundMs: options.roundMs * 3 })) {
    recordRounds(results.rounds, `assertions/${a.name}`, a.costs);
    pairs.push(pairRow(a.name, "verifier", a.ours, a.baseline, a.costs));
  }
  log("HTTP rows");
  for (const h of await measureHttp(smallest, { rounds: options.rounds, roundMs: options.roundMs * 8 })) {
    recordRounds(results.rounds, `http/${h.name}`, h.costs);
    pairs.push(pairRow(h.name, "memory", h.ours, h.baseline, h.costs));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

log("serve --workers rows");
await workerRows();

log("registration row");
await registrationRow();

log(`memory footprint at ${largest} clients`);
const probe = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, "footprint.ts"), "--clients", String(largest)], {
  encoding: "utf8",
  cwd: root,
});
if (probe.status !== 0) throw new Error(`footprint probe failed: ${probe.stderr}`);
const footprint = JSON.parse(probe.stdout.trim().split("\n").at(-1)!) as BenchResults["footprint"];

const report: BenchResults = {
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
    ...(runtimes.length > 0 ? { runtimes } : {}),
  },
  stores,
  baselineWork: BASELINE_WORK,
  rows,
  scaling,
  pairs,
  footprint,
  targets: issueTargets(rows, scaling, pairs),
  rounds: results.rounds,
};

const tables = markdownTables(report);
console.log(`\n${tables}\n`);
mkdirSync(join(here, "results"), { recursive: true });
const jsonFile = join(here, "results", quick ? "quick.json" : "latest.json");
// One line per list of numbers keeps the file readable and its diffs small.
const json = JSON.stringify(report, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, list: string) => `[${list.replace(/\s+/g, "")}]`);
writeFileSync(jsonFile, `${json}\n`);
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
  writeFileSync(svgFile, scalingSvg(panels, `${report.meta.command} · ${report.meta.date} · ${report.meta.cpu}, Node.js ${report.meta.node}`));
  const docsFile = join(root, "docs", "benchmarks.md");
  writeFileSync(docsFile, replaceDocsBlock(readFileSync(docsFile, "utf8"), tables));
  log(`wrote ${svgFile} and the results block of ${docsFile}`);
}
log("done");
