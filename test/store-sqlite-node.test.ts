/**
 * The SQLite store on Node's built-in node:sqlite. Skipped, saying so, on a
 * Node without it (20); `npm run test:runtimes` runs it on Node 22 with
 * REQUIRE_NODE_SQLITE set, which turns the skip into a failure.
 */
import { createRequire } from "node:module";
import { it } from "vitest";
import { runSqliteDriverSuite, type SqliteDatabaseClass } from "./helpers/sqlite-driver-suite.js";

/** node:sqlite's module when this Node has it (≥ 22.5 without a flag from 22.13), else undefined. */
function loadNodeSqlite(): { DatabaseSync: SqliteDatabaseClass } | undefined {
  try {
    return createRequire(import.meta.url)("node:sqlite") as { DatabaseSync: SqliteDatabaseClass };
  } catch {
    return undefined;
  }
}
const nodeSqlite = loadNodeSqlite();

if (nodeSqlite) {
  runSqliteDriverSuite("node:sqlite", nodeSqlite.DatabaseSync);
} else if (process.env.REQUIRE_NODE_SQLITE) {
  it("node:sqlite is available (REQUIRE_NODE_SQLITE is set)", () => {
    throw new Error(`REQUIRE_NODE_SQLITE is set but Node ${process.version} has no node:sqlite`);
  });
} else {
  it.skip(`node:sqlite conformance and guarantees: Node ${process.version} has no node:sqlite (it needs Node >= 22.5); npm run test:runtimes runs them on Node 22`, () => {});
}

