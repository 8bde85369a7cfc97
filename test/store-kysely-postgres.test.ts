/**
 * The Kysely store against a real PostgreSQL server. Runs when DATABASE_URL
 * is set; with REQUIRE_REAL_POSTGRES=1 (CI) a missing or unreachable server
 * fails this file instead of skipping it.
 */
import { randomBytes } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { runStoreConformanceSuite } from "../src/testing/conformance.js";
import {
  createAndRotate,
  expectConcurrentUpdatesAllSurvive,
  expectNoLostIncrementsWithIfMatch,
  expectExactlyOneRotationWins,
  expectOnlyHashesAtRest,
  twoRegistries,
} from "./helpers/storage-scenarios.js";

const databaseUrl = process.env.DATABASE_URL;
const required = process.env.REQUIRE_REAL_POSTGRES === "1";

if (!databaseUrl) {
  if (required) {
    it("has a PostgreSQL server to test against (REQUIRE_REAL_POSTGRES=1)", () => {
      throw new Error("REQUIRE_REAL_POSTGRES=1 but DATABASE_URL is not set");
    });
  } else {
    describe.skip("Kysely store on a real PostgreSQL server (set DATABASE_URL to run)", () => {
      it("needs DATABASE_URL", () => {});
    });
  }
} else {
  describeRealPostgres(databaseUrl);
}

function describeRealPostgres(connectionString: string): void {
  // Unique per run, so reruns and parallel runs never see each other's rows.
  const runPrefix = `t${Date.now().toString(36)}${randomBytes(3).toString("hex")}_`;
  const prefixes = new Set<string>();
  const pools: pg.Pool[] = [];

  function connect(): Kysely<unknown> {
    const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5000 });
    pools.push(pool);
    return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  }

  function prefix(name: string): string {
    const full = `${runPrefix}${name}_`;
    prefixes.add(full);
    return full;
  }

  // Two pools: two sets of independent server connections, like two processes.
  const dbA = connect();
  const dbB = connect();
  const shared = prefix("main");
  const storeA = createKyselyStore(dbA, { tablePrefix: shared });
  const storeB = createKyselyStore(dbB, { tablePrefix: shared });
  let ready: Promise<unknown> | undefined;
  const migrated = () => (ready ??= migrateToLatest(dbA, { tablePrefix: shared }));

  let reachable = false;
  beforeAll(async () => {
    try {
      await sql`SELECT 1`.execute(dbA);
    } catch (error) {
      const where = new URL(connectionString);
      where.password = where.password ? "***" : "";
      throw new Error(`PostgreSQL at DATABASE_URL (${where.href}) is unreachable: ${String(error)}`, { cause: error });
    }
    reachable = true;
    await migrated();
  });

  afterAll(async () => {
    try {
      for (const p of reachable ? prefixes : []) {
        for (const table of ["oauth_clients", "oauth_clients_migrations", "oauth_clients_migrations_lock"]) {
          await dbA.schema.dropTable(`${p}${table}`).ifExists().execute();
        }
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

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
      const tablePrefix = prefix("race");
      const [first, second] = await Promise.all([migrateToLatest(dbA, { tablePrefix }), migrateToLatest(dbB, { tablePrefix })]);
      expect([...first, ...second].map((r) => r.status)).toEqual(["Success", "Success"]);
      expect(await migrateToLatest(dbB, { tablePrefix })).toEqual([]);
    });

    it("keeps every one of 20 concurrent updates from two connection pools", async () => {
      await expectConcurrentUpdatesAllSurvive(twoRegistries(storeA, storeB), (a, c) => storeB.get(a, c));
    });

    it("GET-then-PATCH with If-Match from sixteen workers loses no acknowledged increment", async () => {
      await expectNoLostIncrementsWithIfMatch(twoRegistries(storeA, storeB));
    });

    it("lets exactly one of 10 concurrent rotations win; the rest get Conflict", async () => {
      await expectExactlyOneRotationWins(twoRegistries(storeA, storeB));
    });

    it("never stores a client secret in the table", async () => {
      const registry = createOAuthClientRegistry(storeA);
      const { secrets, hashes, clientId } = await createAndRotate(registry, (a, c) => storeA.get(a, c));
      const table = sql.table(`${shared}oauth_clients`);
      const { rows } = await sql<{ row: string }>`SELECT t::text AS row FROM ${table} t WHERE client_id = ${clientId}`.execute(dbB);
      expect(rows).toHaveLength(1);
      expectOnlyHashesAtRest(rows.map((r) => r.row).join("\n"), secrets, hashes);
    });
  });
}
