/**
 * `copy`, `export` and `import`: clients move between stores exactly as
 * stored (SQLite → PGlite through Kysely → SQLite here; the 100k run over
 * a real PostgreSQL and MariaDB is in test/faults/transfer-100k.test.ts),
 * a second run changes nothing, differing clients are reported and left
 * alone unless overwriting is asked for, and bad input lines are reported
 * by number with nothing written.
 */
import { PGlite } from "@electric-sql/pglite";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kysely } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateToLatest } from "../adapters/kysely.js";
import { createSqliteStore } from "../adapters/sqlite.js";
import { main } from "../src/cli/main.js";
import { canonicalJson, inBatches, kyselyRecordDatabase, openRecordDatabase, readAll, transferRecords, type RecordDatabase } from "../src/cli/transfer.js";
import { populate, proveMoved, type Population } from "./helpers/transfer-population.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const directory = mkdtempSync(join(tmpdir(), "oauth-registry-transfer-"));
let population: Population;
const first = join(directory, "first.sqlite");
const last = join(directory, "last.sqlite");
let pglite: RecordDatabase;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  return { out, err, written, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), write: async (t: string) => void written.push(t) } };
}

beforeAll(async () => {
  population = await populate(2000, 7);
  const source = await openRecordDatabase(first, { create: true });
  for (const batch of inBatches(population.records)) await source.write(batch, []);
  await source.close();
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(new PGlite()) });
  await migrateToLatest(db);
  pglite = kyselyRecordDatabase(db, "PGlite", () => db.destroy());
}, 120_000);

afterAll(async () => {
  await pglite?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe("copy: SQLite → PostgreSQL (PGlite) → SQLite keeps every client as stored", () => {
  it("round trip: every account's count and checksum identical at each step", async () => {
    const source = await openRecordDatabase(first, { create: false });
    const there = await transferRecords(readAll(source), pglite);
    await source.close();
    expect(there).toMatchObject({ read: population.records.length, inserted: population.records.length, unchanged: 0, conflicts: [], verified: true });
    const target = await openRecordDatabase(last, { create: true });
    const back = await transferRecords(readAll(pglite), target);
    await target.close();
    expect(back).toMatchObject({ inserted: population.records.length, verified: true });
    expect([...back.accounts.values()].map((a) => a.target)).toEqual([...there.accounts.values()].map((a) => a.source));
  }, 60_000);

  it("idempotent: copying again writes nothing and reports every client identical (exit code 0)", async () => {
    const { err, output } = capture();
    expect(await main(["copy", "--from", first, "--to", last], {}, output)).toBe(0);
    expect(err.at(-1)).toContain(`${population.records.length} clients read: 0 written, ${population.records.length} already identical`);
    expect(err.filter((l) => l.startsWith("account ")).every((l) => l.endsWith(": identical"))).toBe(true);
  });

  it("a client that differs in the target is reported and left alone (exit code 3), replaced with --on-conflict overwrite", async () => {
    const changed = population.records[1]!;
    const store = createSqliteStore(last);
    await store.update({ ...changed, client_name: "Changed in the target", version: changed.version + 1 }, changed.version);
    await store.close();
    const skipped = capture();
    expect(await main(["copy", "--from", first, "--to", last], {}, skipped.output)).toBe(3);
    expect(skipped.err.join("\n")).toMatch(new RegExp(`conflict: client "${changed.client_id}" .* left alone`));
    expect(skipped.err.some((l) => l.includes(`account "${changed.account_id}"`) && l.endsWith("DIFFERENT"))).toBe(true);
    const reopened = createSqliteStore(last);
    expect((await reopened.getById(changed.client_id))?.client_name).toBe("Changed in the target");
    await reopened.close();

    const overwritten = capture();
    expect(await main(["copy", "--from", first, "--to", last, "--on-conflict", "overwrite"], {}, overwritten.output)).toBe(0);
    expect(overwritten.err.join("\n")).toMatch(/1 overwritten, 0 left alone; verified/);
    const after = createSqliteStore(last);
    expect(await after.getById(changed.client_id)).toEqual(changed);
    await after.close();
  });

  // Last: authenticating records last-use times, which changes the records.
  it("afterwards every record is equal, every secret (current and rotated) and registration token still works, ETags unchanged", async () => {
    // synchronous = NORMAL: the proof records thousands of uses, and durability is not what it tests.
    const store = createSqliteStore(last, { synchronous: "normal" });
    try {
      await proveMoved(store, population);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe("export and import: JSON Lines of stored records", () => {
  it("export writes one canonical record per line, every stored field included; import of it reproduces the store", async () => {
    const exported = capture();
    expect(await main(["export", "--from", first], {}, exported.output)).toBe(0);
    const lines = exported.written.join("").trimEnd().split("\n");
    expect(lines).toHaveLength(population.records.length);
    const byId = new Map(population.records.map((r) => [r.client_id, r]));
    for (const line of lines) {
      const record = JSON.parse(line) as { client_id: string };
      expect(line).toBe(canonicalJson(byId.get(record.client_id)));
    }
    expect(lines.some((l) => l.includes('"registration_access_token_hash":"sha256$'))).toBe(true);
    expect(lines.some((l) => l.includes('"rotated_secret_hash":"sha256$'))).toBe(true);
    expect(exported.err.at(-1)).toMatch(/^exported 2001 clients of 8 accounts/);

    const file = join(directory, "imported.sqlite");
    const imported = capture();
    expect(await main(["import", "--to", file], {}, imported.output, async () => lines.join("\n") + "\n")).toBe(0);
    expect(imported.err.at(-1)).toMatch(/2001 written.*verified/);
    const again = capture();
    expect(await main(["import", "--to", file], {}, again.output, async () => lines.join("\n"))).toBe(0);
    expect(again.err.at(-1)).toMatch(/0 written, 2001 already identical/);
    const store = createSqliteStore(file);
    try {
      for (const record of population.records.slice(0, 50)) expect(await store.getById(record.client_id)).toEqual(record);
    } finally {
      await store.close();
    }
  });

  it("the command reads stdin whatever its size: export piped into import through real processes", async () => {
    const file = join(directory, "piped.sqlite");
    const run = (args: string[], stdin: "ignore" | "pipe") =>
      spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: root, stdio: [stdin, "pipe", "pipe"] });
    const exporter = run(["export", "--from", first], "ignore");
    const importer = run(["import", "--to", file], "pipe");
    exporter.stdout!.pipe(importer.stdin!);
    const stderr: string[] = [];
    importer.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
    const [[exportCode], [importCode]] = await Promise.all([once(exporter, "exit"), once(importer, "exit")]);
    expect([exportCode, importCode]).toEqual([0, 0]);
    expect(stderr.join("")).toMatch(new RegExp(`${population.records.length} clients read: ${population.records.length} written.*verified`));
  }, 60_000);

  it("bad lines are reported with their numbers and nothing is written (exit code 1)", async () => {
    const good = canonicalJson(population.records[0]);
    const input = [good, "{not json", "", JSON.stringify({ ...population.records[1], version: 0 }), good, JSON.stringify({ ...population.records[2], extra: 1 })].join("\n");
    const file = join(directory, "never.sqlite");
    const run = capture();
    expect(await main(["import", "--to", file], {}, run.output, async () => input)).toBe(1);
    expect(run.err).toEqual([
      expect.stringMatching(/^error: line 2: not JSON/),
      expect.stringMatching(/^error: line 4: \/version: /),
      expect.stringMatching(/^error: line 5: client ".*" is already on line 1$/),
      expect.stringMatching(/^error: line 6: .*extra/),
      "error: 4 bad lines; nothing was written",
    ]);
    expect(existsSync(file)).toBe(false);
  });

  it("usage errors name the flag (exit code 2); a missing SQLite source is an error, never created (exit code 1)", async () => {
    const run = capture();
    expect(await main(["copy", "--from", first], {}, run.output)).toBe(2);
    expect(run.err[0]).toBe("error: copy needs --to TARGET (a SQLite file, postgres:// or mysql:// URL)");
    expect(await main(["import", "--to", last, "--on-conflict", "merge"], {}, run.output)).toBe(2);
    expect(run.err).toContain('error: --on-conflict must be skip or overwrite, got "merge"');
    expect(await main(["copy", "--from", "redis://x", "--to", last], {}, run.output)).toBe(1);
    expect(run.err).toContain("error: redis:// is not a supported store: use a SQLite file, postgres:// or mysql://");
    const missing = join(directory, "missing.sqlite");
    expect(await main(["export", "--from", missing], {}, run.output)).toBe(1);
    expect(run.err).toContain(`error: no SQLite database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });
});
