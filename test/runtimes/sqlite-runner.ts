/**
 * Runs the SQLite store's conformance suite and guarantee cases on the
 * runtime's own driver: bun:sqlite under Bun, node:sqlite under Deno (and
 * under Node when asked to). Bundled by scripts/runtimes.mjs with `vitest`
 * aliased to ./harness.ts; prints one line per case and a closing
 * `RUNTIME: N passed, N failed, N skipped` line, and exits non-zero on a
 * failure or when no case ran.
 */
import type { SqliteDriverName } from "../../adapters/sqlite-drivers.js";
import { runSqliteDriverSuite, type SqliteDatabaseClass } from "../helpers/sqlite-driver-suite.js";
import { createSqliteStore } from "../../adapters/sqlite.js";
import { makeStoredClient } from "../../src/testing/conformance.js";
import { describe, expect, it, printResult, runRegistered } from "./harness.js";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/** The drivers this runtime has, each with its connection class. */
async function driversHere(): Promise<[SqliteDriverName, SqliteDatabaseClass][]> {
  const found: [SqliteDriverName, SqliteDatabaseClass][] = [];
  // Variable specifiers: bun:sqlite exists only under Bun, and the bundler must leave both alone.
  for (const driver of ["node:sqlite", "bun:sqlite"] as const) {
    const specifier: string = driver;
    try {
      const module = (await import(specifier)) as { Database?: SqliteDatabaseClass; DatabaseSync?: SqliteDatabaseClass };
      found.push([driver, (driver === "bun:sqlite" ? module.Database : module.DatabaseSync)!]);
    } catch {
      // not on this runtime
    }
  }
  return found;
}

const drivers = await driversHere();
const wanted = (process.env.SQLITE_DRIVERS ?? "").split(",").filter(Boolean);
for (const [driver, Database] of drivers) {
  if (wanted.length === 0 || wanted.includes(driver)) runSqliteDriverSuite(driver, Database);
}
for (const driver of wanted) {
  if (!drivers.some(([name]) => name === driver)) {
    it(`${driver} is available on ${runtime}`, () => {
      throw new Error(`SQLITE_DRIVERS names ${driver}, which ${runtime} does not have`);
    });
  }
}

describe(`SQLite store on ${runtime}: opening a filename`, () => {
  it("opens it with the first driver that works here, never better-sqlite3 outside Node", async () => {
    const store = createSqliteStore(":memory:");
    try {
      expect(store.driver).toBe(drivers[0]![0]);
      const record = makeStoredClient();
      expect(await store.insert(record)).toBe(true);
      expect(await store.getById(record.client_id)).toStrictEqual(record);
    } finally {
      await store.close();
    }
  });
});

const result = await runRegistered((outcome) => printResult(runtime, outcome));
console.log(`${runtime}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
if (result.failed > 0 || result.passed === 0) process.exitCode = 1;
