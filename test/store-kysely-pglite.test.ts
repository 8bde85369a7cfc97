import { PGlite } from "@electric-sql/pglite";
import { Kysely, sql } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { runStoreConformanceSuite } from "../src/testing/conformance.js";

// One PGlite per file: starting one costs seconds. A second Kysely over it
// is a second client of the same database (two writers racing over PGlite
// are in multi-writer.test.ts).
const pglite = new PGlite();
const dbA = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
const dbB = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
const storeA = createKyselyStore(dbA);
const migrated = migrateToLatest(dbA);

beforeAll(() => migrated);
afterAll(() => pglite.close());

runStoreConformanceSuite("Kysely + PostgreSQL (PGlite)", async () => {
  await migrated;
  return { store: storeA };
});

describe("Kysely store on PGlite: schema", () => {
  it("migrates idempotently", async () => {
    await migrated;
    expect(await migrateToLatest(dbB)).toEqual([]);
    const { rows } = await sql<{ name: string }>`
      SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'oauth_clients%' ORDER BY tablename`.execute(dbA);
    expect(rows.map((r) => r.name)).toEqual([
      "oauth_clients",
      "oauth_clients_claims",
      "oauth_clients_migrations",
      "oauth_clients_migrations_lock",
    ]);
  });

  it("serves a list page after a position from the list index without sorting", async () => {
    const queries: { sql: string; parameters: readonly unknown[] }[] = [];
    const logged = new Kysely<unknown>({
      dialect: new PGliteDialect(pglite),
      log: (event) => void queries.push({ sql: event.query.sql, parameters: event.query.parameters }),
    });
    await createKyselyStore(logged).list("acct", {
      limit: 10,
      after: { created_at: "2025-01-01T00:00:00.000Z", client_id: "x" },
    });
    const list = queries.find((q) => /order by "created_at", "client_id"/.test(q.sql))!;
    // Tiny tables make a sequential scan cheapest; with it ruled out the
    // plan shows whether the index can serve the query on its own.
    await pglite.exec("SET enable_seqscan = off");
    try {
      const { rows } = await pglite.query<{ "QUERY PLAN": string }>(`EXPLAIN ${list.sql}`, [...list.parameters]);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toMatch(/Index Scan using oauth_clients_list_idx/);
      expect(plan).toMatch(/Index Cond: .*\(account_id\)::text = .* AND .*\(created_at\)::text >= /);
      expect(plan).not.toMatch(/Sort/);
    } finally {
      await pglite.exec("RESET enable_seqscan");
    }
  });
});
