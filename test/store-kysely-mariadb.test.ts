/**
 * The Kysely store on a real MariaDB server through Kysely's MysqlDialect
 * (mysql2). Runs when MYSQL_URL is set; with REQUIRE_REAL_MARIADB=1 (CI) a
 * missing or unreachable server fails this file instead of skipping it.
 * Two writers racing over the server are in multi-writer.test.ts.
 */
import { sql, type Kysely } from "kysely";
import { registryMigrator, VERSION_1 } from "./helpers/kysely-migrator.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { fromClientRow, toLegacyClientRow, type OAuthClientsTable } from "../adapters/rows.js";
import type { ClientStore, StoredClient } from "../src/model/store.js";
import { runStoreConformanceSuite } from "../src/testing/conformance.js";
import { makeLargeStoredClient, makeStoredClient } from "../src/testing/records.js";
import { MYSQL_URL, realMariadb, REQUIRE_REAL_MARIADB } from "./helpers/mariadb.js";

if (!MYSQL_URL) {
  if (REQUIRE_REAL_MARIADB) {
    it("has a MariaDB server to test against (REQUIRE_REAL_MARIADB=1)", () => {
      throw new Error("REQUIRE_REAL_MARIADB=1 but MYSQL_URL is not set");
    });
  } else {
    describe.skip("Kysely store on a real MariaDB server (set MYSQL_URL to run)", () => {
      it("needs MYSQL_URL", () => {});
    });
  }
} else {
  describeRealMariadb(MYSQL_URL);
}


/** A record whose JSON document is far beyond TEXT's 64 KiB: 300 redirect URIs of 2000 characters, emoji included. */
function hugeClient(accountId: string): StoredClient {
  return makeLargeStoredClient({
    account_id: accountId,
    redirect_uris: Array.from({ length: 300 }, (_, i) => `https://app.example.com/${i}/🚀${"é".repeat(1990)}`),
  });
}

function describeRealMariadb(url: string): void {
  const server = realMariadb(url);
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

  describe("real MariaDB server", () => {
    it("is reachable at MYSQL_URL", async () => {
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(dbA);
      expect(rows).toEqual([{ one: 1 }]);
    });
  });

  runStoreConformanceSuite("Kysely + MariaDB (real server)", async () => {
    await migrated();
    return { store: storeA };
  });

  // Affected rows that count changed rows only, as some mysql2 set-ups have.
  const changedRowsOnly = server.connect(["-FOUND_ROWS"]);
  runStoreConformanceSuite("Kysely + MariaDB (real server, client flag -FOUND_ROWS)", async () => {
    await migrated();
    return { store: createKyselyStore(changedRowsOnly, { tablePrefix: shared }) };
  });

  describe("Kysely store on a real MariaDB server", () => {
    it("migrates once when two processes start at the same time", async () => {
      const tablePrefix = server.prefix("race");
      const [first, second] = await Promise.all([migrateToLatest(dbA, { tablePrefix }), migrateToLatest(dbB, { tablePrefix })]);
      const all = [...first, ...second];
      expect(all.every((r) => r.status === "Success")).toBe(true);
      expect(new Set(all.map((r) => r.migrationName)).size).toBe(all.length);
      expect(await migrateToLatest(dbB, { tablePrefix })).toEqual([]);
    });

    it("stores a document larger than 64 KiB and reads it back from another connection", async () => {
      await migrated();
      const huge = hugeClient(`acct_${Date.now()}`);
      expect(JSON.stringify(huge).length).toBeGreaterThan(600_000);
      expect(await storeA.insert(huge)).toBe(true);
      const storeB = createKyselyStore(dbB, { tablePrefix: shared });
      expect(await storeB.get(huge.account_id, huge.client_id)).toStrictEqual(huge);
      const changed = { ...huge, client_name: "Changed", version: huge.version + 1 };
      expect(await storeB.update(changed, huge.version)).toBe(true);
      expect(await storeA.getById(huge.client_id)).toStrictEqual(changed);
    });

    it("keeps account ids that differ only in case, accents or trailing spaces apart", async () => {
      await migrated();
      const base = `Acct_${Date.now()}`;
      const accounts = [base, base.toLowerCase(), `${base} `, `${base}\u00e9`, `${base}e`];
      const records = accounts.map((account_id) => makeStoredClient({ account_id }));
      for (const record of records) expect(await storeA.insert(record)).toBe(true);
      for (const record of records) {
        expect(await storeA.list(record.account_id, { limit: 10 })).toStrictEqual([record]);
      }
      const [first] = records as [StoredClient];
      expect(await storeA.get(`${base} `, first.client_id)).toBeNull();
      expect(await storeA.insert({ ...makeStoredClient({ account_id: base }), client_id: `${first.client_id} ` })).toBe(true);
    });

    it("upgrades a version-1 table (0001, then the later migrations): records read back, writes work", async () => {
      const tablePrefix = server.prefix("upgrade");
      const { error } = await registryMigrator(dbA, tablePrefix).migrateTo(VERSION_1);
      expect(error).toBeUndefined();
      const accountId = `acct_${Date.now()}`;
      const records = [
        makeLargeStoredClient({ account_id: accountId }),
        makeStoredClient({ account_id: accountId, client_name: "שלום 👋🏽", created_at: "2025-03-01T00:00:00.000Z" }),
        ...Array.from({ length: 130 }, (_, i) =>
          makeStoredClient({ account_id: accountId, created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() }),
        ),
      ];
      const k = dbA as unknown as Kysely<Record<string, Record<string, unknown>>>;
      for (let i = 0; i < records.length; i += 50) {
        await k.insertInto(`${tablePrefix}oauth_clients`).values(records.slice(i, i + 50).map(toLegacyClientRow)).execute();
      }
      const results = await migrateToLatest(dbB, { tablePrefix });
      expect(results.length).toBeGreaterThan(0);
      expect(results.every((r) => r.status === "Success")).toBe(true);
      const store: ClientStore = createKyselyStore(dbB, { tablePrefix });
      for (const record of records) expect(await store.get(accountId, record.client_id)).toStrictEqual(record);
      const sorted = [...records].sort((x, y) =>
        x.created_at !== y.created_at ? (x.created_at < y.created_at ? -1 : 1) : x.client_id < y.client_id ? -1 : 1,
      );
      const listed: StoredClient[] = [];
      for (let page = await store.list(accountId, { limit: 40 }); page.length > 0; ) {
        listed.push(...page);
        const last = page.at(-1)!;
        page = await store.list(accountId, { limit: 40, after: { created_at: last.created_at, client_id: last.client_id } });
      }
      expect(listed).toStrictEqual(sorted);
      const huge = hugeClient(accountId);
      expect(await store.insert(huge)).toBe(true);
      expect(await store.getById(huge.client_id)).toStrictEqual(huge);
      expect(await migrateToLatest(dbA, { tablePrefix })).toEqual([]);
    });

    for (const flags of [undefined, ["-FOUND_ROWS"]]) {
      it(`answers a compare-and-swap that writes identical values by whether the version matched (client flags ${flags ?? "default"})`, async () => {
        await migrated();
        const db = server.connect(flags);
        try {
          const store = createKyselyStore(db, { tablePrefix: shared });
          const record = makeStoredClient();
          expect(await store.insert(record)).toBe(true);
          // The same row again: without FOUND_ROWS MySQL reports 0 affected rows, yet the version matched.
          expect(await store.update(record, record.version)).toBe(true);
          expect(await store.update(record, record.version + 1)).toBe(false);
          expect(await store.update({ ...record, version: 2 }, 3)).toBe(false);
          expect(await store.update({ ...record, account_id: "acct_other" }, record.version)).toBe(false);
          const next = { ...record, client_name: "Next", version: 2 };
          expect(await store.update(next, record.version)).toBe(true);
          expect(await store.update(next, record.version)).toBe(false);
          const row = await (db as unknown as Kysely<Record<string, OAuthClientsTable>>)
            .selectFrom(`${shared}oauth_clients`)
            .selectAll()
            .where("client_id", "=", record.client_id)
            .executeTakeFirstOrThrow();
          expect(fromClientRow(row)).toStrictEqual(next);
        } finally {
          await server.disconnect(db);
        }
      });
    }
  });
}
