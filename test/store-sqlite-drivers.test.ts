import { spawnSync } from "node:child_process";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { driverOf } from "../adapters/sqlite-drivers.js";
import { createSqliteStore, SqliteOpenError } from "../adapters/sqlite.js";
import { runSqliteDriverSuite, type SqliteDatabaseClass } from "./helpers/sqlite-driver-suite.js";

// node:sqlite runs in store-sqlite-node.test.ts, which loads no better-sqlite3,
// so that it also runs on a Node whose ABI the installed addon was not built for.
runSqliteDriverSuite("better-sqlite3", Database as unknown as SqliteDatabaseClass);

describe("SQLite drivers: recognised by shape, loaded only when used", () => {
  it("tells the drivers apart by their methods and refuses anything else", () => {
    const better = new Database(":memory:");
    expect(driverOf(better)).toBe("better-sqlite3");
    better.close();
    // Shapes of the other drivers' connection classes (only their methods matter).
    const method = () => undefined;
    expect(driverOf({ prepare: method, exec: method, close: method, isOpen: true })).toBe("node:sqlite");
    expect(driverOf({ prepare: method, exec: method, close: method, query: method, filename: "x.sqlite" })).toBe("bun:sqlite");
    expect(() => createSqliteStore({ prepare: 1 } as never)).toThrow(
      /expects a filename or a better-sqlite3 Database, a node:sqlite DatabaseSync or a bun:sqlite Database/,
    );
  });

  it("refuses an unknown driver name, and names the driver that cannot load", () => {
    expect(() => createSqliteStore(":memory:", { driver: "sqlite3" as never })).toThrow(
      /driver must be one of better-sqlite3, node:sqlite, bun:sqlite/,
    );
    // Node never has bun:sqlite.
    let error: unknown;
    try {
      createSqliteStore(":memory:", { driver: "bun:sqlite" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SqliteOpenError);
    expect((error as SqliteOpenError).reason).toMatch(/^the SQLite driver bun:sqlite cannot be loaded here/);
  });

  it("importing the adapter loads no driver; opening a filename loads better-sqlite3 when it is installed", () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((path) => path.includes("better-sqlite3"));
      const { createSqliteStore } = await import("./adapters/sqlite.ts");
      const before = loaded();
      const store = createSqliteStore(":memory:");
      console.log(JSON.stringify({ before, after: loaded(), driver: store.driver }));
      await store.close();
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toStrictEqual({ before: false, after: true, driver: "better-sqlite3" });
  });
});
