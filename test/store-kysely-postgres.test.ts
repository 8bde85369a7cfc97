/**
 * The Kysely store against a real PostgreSQL server. Runs when DATABASE_URL
 * is set; with REQUIRE_REAL_POSTGRES=1 (CI) a missing or unreachable server
 * fails this file instead of skipping it. Two writers racing over the
 * server are in multi-writer.test.ts.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { runStoreConformanceSuite } from "../src/testing/conformance.js";
import { DATABASE_URL, realPostgres, REQUIRE_REAL_POSTGRES } from "./helpers/postgres.js";

if (!DATABASE_URL) {
  if (REQUIRE_REAL_POSTGRES) {
    it("has a PostgreSQL server to test against (REQUIRE_REAL_POSTGRES=1)", () => {
      throw new Error("REQUIRE_REAL_POSTGRES=1 but DATABASE_URL is not set");
    });
  } else {
    describe.skip("Kysely store on a real PostgreSQL server (set DATABASE_URL to run)", () => {
      it("needs DATABASE_URL", () => {});
    });
  }
} else {
  describeRealPostgres(DATABASE_URL);
}

function describeRealPostgres(connectionString: string): void {
  const server = realPostgres(connectionString);
  // Two pools: two sets of independent server connections, like two processes.
  const dbA = server.connect();
  const dbB = server.connect();
  const shared = server.prefix("main");
  const storeA = createKyselyStore(dbA, { tablePrefix: shared });
  let ready: Promise<unknown> | undefined;
  const migrated = () => (ready ??= migrateToLatest(dbA, { tablePrefix: shared }));

  beforeAll(async () => {
    await server.assertReachable(dbA);
    await migrated();
  });

  afterAll(() => server.cleanup());

  describe("real PostgreSQL server", () => {
    it("is reachable at DATABASE_URL", async () => {
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(dbA);
      expect(rows).toEqual([{ one: 1 }]);
    });
  });

  runStoreConformanceSuite("Kysely + PostgreSQL (real server)", async () => {
    await migrated();
    return { store: storeA };
  });

  describe("Kysely store on a real PostgreSQL server", () => {
    it("migrates once when two processes start at the same time", async () => {
      const tablePrefix = server.prefix("race");
      const [first, second] = await Promise.all([migrateToLatest(dbA, { tablePrefix }), migrateToLatest(dbB, { tablePrefix })]);
      // Each of the three migrations applied once, whichever process did it.
      expect([...first, ...second].map((r) => r.status)).toEqual(["Success", "Success", "Success"]);
      expect(await migrateToLatest(dbB, { tablePrefix })).toEqual([]);
    });
  });
}
