/**
 * One SQLite driver's rows, measured inside the runtime that has the
 * driver. bench/sqlite-runtimes.ts starts it as
 *
 *   node --import tsx bench/sqlite-driver.ts --driver node:sqlite …   (Node ≥ 22.5)
 *   bun bench/sqlite-driver.ts --driver bun:sqlite …
 *
 * and it measures exactly what the better-sqlite3 rows measure (grid.ts):
 * the registry over `createSqliteStore(file, { driver })` against the same
 * driver's own statements, prepared once on a second connection to the same
 * file with the same durability (WAL, synchronous=FULL), every operation at
 * every size in interleaved rounds. Progress goes to stderr; the last line
 * of stdout is the JSON of a {@link DriverRun}.
 *
 * Options: --driver node:sqlite|bun:sqlite, --key (the store's key in the
 * results), --sizes 1000,10000, --rounds N, --round-ms N.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSqliteStore } from "../adapters/sqlite.js";
import { sqliteBaseline, sqlTexts, type SyncSqliteDatabase } from "./baselines.js";
import { measureStore, type StoreMeasurement } from "./grid.js";
import { makePopulation, type Population } from "./population.js";
import type { StoreKind } from "./stores.js";

/** The drivers this script measures (better-sqlite3 is measured in the parent's own process). */
export type MeasuredDriver = "node:sqlite" | "bun:sqlite";

/** What the script prints: the runtime it ran in and one store's measurement. */
export interface DriverRun {
  driver: MeasuredDriver;
  /** e.g. "Node v22.23.5" or "Bun 1.4.5". */
  runtime: string;
  measurement: StoreMeasurement;
}

type DriverDatabase = SyncSqliteDatabase & { close(): unknown };

/** The driver's connection class, loaded the way the adapter loads it (a synchronous require). */
function connectionClass(driver: MeasuredDriver): new (filename: string) => DriverDatabase {
  const require = createRequire(import.meta.url);
  return driver === "node:sqlite"
    ? (require("node:sqlite") as { DatabaseSync: new (filename: string) => DriverDatabase }).DatabaseSync
    : (require("bun:sqlite") as { Database: new (filename: string) => DriverDatabase }).Database;
}

/** The store on `driver` beside its baseline on the same driver, as stores.ts builds the better-sqlite3 pair. */
function driverKind(dir: string, key: string, driver: MeasuredDriver): StoreKind {
  const Connection = connectionClass(driver);
  return {
    key,
    label: driver,
    durability: "WAL, synchronous=FULL, the store's default",
    ours: `registry over createSqliteStore(file, { driver: "${driver}" })`,
    async open(population: Population) {
      const file = join(dir, `${key}-${population.size}.sqlite`);
      const store = createSqliteStore(file, { driver });
      // A second connection to the same file, with the same durability.
      const db = new Connection(file);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      const raw = sqliteBaseline(db, sqlTexts("oauth_clients", "?", "row-value"), driver);
      raw.load(population.records);
      return {
        store,
        raw,
        async close() {
          await store.close();
          db.close();
        },
      };
    },
    async dispose() {},
  };
}

const { values } = parseArgs({
  options: {
    driver: { type: "string" },
    key: { type: "string" },
    sizes: { type: "string", default: "1000,10000,100000" },
    rounds: { type: "string", default: "11" },
    "round-ms": { type: "string", default: "20" },
  },
});
if (values.driver !== "node:sqlite" && values.driver !== "bun:sqlite") throw new Error("--driver takes node:sqlite or bun:sqlite");
const driver: MeasuredDriver = values.driver;
const bunVersion = (process.versions as Record<string, string | undefined>).bun;
const runtime = bunVersion ? `Bun ${bunVersion}` : `Node ${process.version}`;
const sizes = values.sizes!.split(",").map(Number);
const started = performance.now();
const log = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${runtime}: ${line}\n`);

const dir = mkdtempSync(join(tmpdir(), "ocr-bench-driver-"));
try {
  const populations = new Map(sizes.map((size) => [size, makePopulation(size)]));
  const kind = driverKind(dir, values.key ?? driver, driver);
  const measurement = await measureStore(kind, populations, { rounds: Number(values.rounds), roundMs: Number(values["round-ms"]) }, log);
  const run: DriverRun = { driver, runtime, measurement };
  process.stdout.write(`${JSON.stringify(run)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
