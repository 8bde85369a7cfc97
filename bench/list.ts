/**
 * List-page cost at depth: our keyset listing against the usual baseline
 * for each backend, measured side by side in one run and reported as ratios.
 *
 * - memory: `createMemoryStore().list` (binary search into sorted keys)
 *   against a scan-and-sort store (filter the account, sort, find, slice).
 * - SQLite: `createSqliteStore().list` (keyset seek on the list index)
 *   against `LIMIT … OFFSET …` on the same table and index.
 *
 * Run: npm run bench [-- --clients 100000 --rounds 7]
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createMemoryStore } from "../adapters/memory.js";
import { createSqliteStore } from "../adapters/sqlite.js";
import { makeStoredClient } from "../src/testing/records.js";
import type { ListPosition, StoredClient } from "../src/store.js";

const { values } = parseArgs({
  options: { clients: { type: "string", default: "100000" }, rounds: { type: "string", default: "7" } },
});
const N = Number(values.clients);
const ROUNDS = Number(values.rounds);
const PAGE = 50;
const ACCOUNT = "acct_bench";

function records(): StoredClient[] {
  const base = Date.parse("2025-01-01T00:00:00.000Z");
  return Array.from({ length: N }, (_, i) =>
    makeStoredClient({
      account_id: i % 10 === 0 ? `acct_other_${i % 7}` : ACCOUNT,
      created_at: new Date(base + Math.floor(i / 3) * 1000).toISOString(),
    }),
  );
}

/** Median time per call (µs) of `fn` over `calls` calls, `ROUNDS` rounds. */
async function measure(fn: (i: number) => Promise<unknown>, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await fn(i);
    times.push(((performance.now() - start) * 1000) / calls);
  }
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs both sides interleaved round by round, so machine noise hits both alike. */
async function compare(name: string, ours: (i: number) => Promise<unknown>, baseline: (i: number) => Promise<unknown>, calls: number) {
  const a: number[] = [];
  const b: number[] = [];
  await measure(ours, Math.max(1, calls / 10)); // warm-up
  await measure(baseline, Math.max(1, calls / 10));
  for (let r = 0; r < ROUNDS; r++) {
    a.push(...(await measureOnce(ours, calls)));
    b.push(...(await measureOnce(baseline, calls)));
  }
  const ma = median(a);
  const mb = median(b);
  console.log(
    `${name.padEnd(44)} ours ${ma.toFixed(1).padStart(9)} µs/page   baseline ${mb.toFixed(1).padStart(10)} µs/page   baseline/ours ${(mb / ma).toFixed(1)}×`,
  );
}

async function measureOnce(fn: (i: number) => Promise<unknown>, calls: number): Promise<number[]> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await fn(i);
  return [((performance.now() - start) * 1000) / calls];
}

function scanAndSortList(all: StoredClient[], accountId: string, after: ListPosition | null, limit: number) {
  const mine = all
    .filter((r) => r.account_id === accountId)
    .sort((x, y) => (x.created_at === y.created_at ? (x.client_id < y.client_id ? -1 : 1) : x.created_at < y.created_at ? -1 : 1));
  const start = after
    ? mine.findIndex((r) => r.created_at > after.created_at || (r.created_at === after.created_at && r.client_id > after.client_id))
    : 0;
  return start < 0 ? [] : mine.slice(start, start + limit).map((r) => structuredClone(r));
}

const JSON_COLUMNS = [
  "grant_types", "response_types", "redirect_uris", "scopes", "optional_scopes",
  "allowed_cors_origins", "post_logout_redirect_uris", "client_uri_verification",
];

/** The baseline decodes rows like the adapter does, so both sides return records. */
function decodeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out = { ...row };
  for (const c of JSON_COLUMNS) if (typeof out[c] === "string") out[c] = JSON.parse(out[c] as string);
  return out;
}

async function main() {
  console.log(`list page of ${PAGE}, ${N} clients (90% in one account), median of ${ROUNDS} interleaved rounds, node ${process.version}\n`);
  const all = records();
  const mine = all
    .filter((r) => r.account_id === ACCOUNT)
    .sort((x, y) => (x.created_at === y.created_at ? (x.client_id < y.client_id ? -1 : 1) : x.created_at < y.created_at ? -1 : 1));
  const depths = [0, Math.floor(mine.length / 2), mine.length - PAGE - 1];
  const positions = depths.map((d) => (d === 0 ? null : { created_at: mine[d]!.created_at, client_id: mine[d]!.client_id }));

  const memory = createMemoryStore();
  for (const r of all) await memory.insert(r);
  for (const [k, after] of positions.entries()) {
    await compare(
      `memory, page at depth ${depths[k]}`,
      () => memory.list(ACCOUNT, { limit: PAGE, after }),
      async () => scanAndSortList(all, ACCOUNT, after, PAGE),
      3,
    );
  }

  const dir = mkdtempSync(join(tmpdir(), "ocr-bench-"));
  try {
    const file = join(dir, "bench.sqlite");
    const sqlite = createSqliteStore(file);
    const db = new Database(file);
    db.transaction(() => {
      for (const r of all) void sqlite.insert(r);
    })();
    const offsetQuery = db.prepare(
      "SELECT * FROM oauth_clients WHERE account_id = ? ORDER BY created_at, client_id LIMIT ? OFFSET ?",
    );
    for (const [k, after] of positions.entries()) {
      const offset = depths[k] === 0 ? 0 : depths[k]! + 1;
      await compare(
        `sqlite, page at depth ${depths[k]}`,
        () => sqlite.list(ACCOUNT, { limit: PAGE, after }),
        async () => (offsetQuery.all(ACCOUNT, PAGE, offset) as Record<string, unknown>[]).map(decodeRow),
        50,
      );
    }
    db.close();
    await sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
