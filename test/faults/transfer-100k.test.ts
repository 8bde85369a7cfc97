/**
 * `copy` at scale across every kind of store: 100 000 registry-made
 * clients go SQLite → PostgreSQL → MariaDB → SQLite through the command
 * itself, each hop verified per account; afterwards every record is equal
 * to the original, every client authenticates with its secret (current and
 * rotated), every RFC 7592 token reads its client, ETags are unchanged, and
 * a second copy changes nothing.
 *
 * Needs DATABASE_URL (PostgreSQL) and MYSQL_URL (MariaDB), as `.ci/run`
 * sets them; their `oauth_clients` tables are emptied before and after.
 * Run by `npm run test:faults`, outside `npm test`'s minute.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kysely, MysqlDialect, PostgresDialect, sql } from "kysely";
import { createPool } from "mysql2";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrateToLatest } from "../../adapters/kysely.js";
import { createSqliteStore } from "../../adapters/sqlite.js";
import { main } from "../../src/cli/main.js";
import { inBatches, openRecordDatabase } from "../../src/cli/transfer.js";
import { populate, proveMoved } from "../helpers/transfer-population.js";

const DATABASE_URL = process.env.DATABASE_URL;
const MYSQL_URL = process.env.MYSQL_URL;
const available = Boolean(DATABASE_URL && MYSQL_URL);
if (!available && (process.env.REQUIRE_REAL_POSTGRES === "1" || process.env.REQUIRE_REAL_MARIADB === "1")) {
  throw new Error("the 100k copy needs DATABASE_URL and MYSQL_URL");
}
const COUNT = Number(process.env.TRANSFER_CLIENTS ?? 100_000);

/** Empties the clients table of a server (creating it first if it is new). */
async function emptyTable(db: Kysely<unknown>): Promise<void> {
  await migrateToLatest(db);
  await sql`DELETE FROM oauth_clients`.execute(db);
  await db.destroy();
}

const postgres = () => new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 2 }) }) });
const mariadb = () => new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool({ uri: MYSQL_URL!, connectionLimit: 2 }) }) });

describe.skipIf(!available)(`copy of ${COUNT} clients: SQLite → PostgreSQL → MariaDB → SQLite`, () => {
  const directory = mkdtempSync(join(tmpdir(), "oauth-registry-transfer-100k-"));
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    if (available) await Promise.all([emptyTable(postgres()), emptyTable(mariadb())]);
  });

  it("every hop verified; afterwards every client is as it was and authenticates", async () => {
    await Promise.all([emptyTable(postgres()), emptyTable(mariadb())]);
    const population = await populate(COUNT, 50);
    const first = join(directory, "first.sqlite");
    const last = join(directory, "last.sqlite");
    const source = await openRecordDatabase(first, { create: true });
    for (const batch of inBatches(population.records)) await source.write(batch, []);
    await source.close();

    const hops: [string, string][] = [
      [first, DATABASE_URL!],
      [DATABASE_URL!, MYSQL_URL!],
      [MYSQL_URL!, last],
    ];
    for (const [from, to] of hops) {
      const err: string[] = [];
      const code = await main(["copy", "--from", from, "--to", to], {}, { out: () => {}, err: (line) => err.push(line) });
      expect(code, err.join("\n")).toBe(0);
      expect(err.at(-1)).toContain(`${population.records.length} clients read: ${population.records.length} written`);
      expect(err.at(-1)).toContain("verified: every account identical in the target");
    }
    const again: string[] = [];
    expect(await main(["copy", "--from", first, "--to", last], {}, { out: () => {}, err: (line) => again.push(line) })).toBe(0);
    expect(again.at(-1)).toContain(`0 written, ${population.records.length} already identical`);

    const store = createSqliteStore(last, { synchronous: "normal" });
    try {
      await proveMoved(store, population);
    } finally {
      await store.close();
    }
  }, 1_800_000);
});
