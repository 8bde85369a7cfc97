/**
 * Moving stored clients between stores at the record level: `copy` (store
 * to store), `export` (store to JSON Lines) and `import` (JSON Lines to
 * store). Records travel exactly as stored — ids, secret and rotated-secret
 * hashes, rotation times, versions, timestamps, registration token hashes,
 * sources, last-use times — so every client authenticates, answers its
 * RFC 7592 token and keeps its ETag after the move.
 *
 * The store contract lists one account at a time and has no "every
 * account" read, and its writes always bump the version; a faithful move
 * needs both. So this module reads and writes the clients table itself,
 * through Kysely on the same database handle the adapters use, with the
 * adapters' own row encoding (adapters/rows.ts) and schema (created or
 * migrated by the adapters before anything is read or written).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Kysely } from "kysely";
import * as z from "zod";
import { CLIENT_COLUMNS, fromClientRow, toClientRow, type ClientRowRead, type OAuthClientsTable } from "../../adapters/rows.js";
import { CLIENT_FIELDS, fillStoredDefaults } from "../fields.js";
import { accountIdIssue, isPlausibleClientId } from "../model/ids.js";
import type { StoredClient } from "../model/store.js";

/** Stable codes of {@link TransferError}. */
export type TransferErrorCode =
  /** A location names nothing usable (no such SQLite file to read, an unknown URL scheme). */
  | "bad_location"
  /** A driver the location needs is not installed. */
  | "missing_driver"
  /** The database could not be opened, reached or migrated. */
  | "unavailable"
  /** Lines of the JSON Lines input are not stored records; nothing was written. */
  | "bad_input";

/**
 * Why a transfer could not run. `code` is stable; `message` names the
 * location or the line.
 *
 * @example
 * ```ts
 * try { await openRecordDatabase("./missing.sqlite", { create: false }) }
 * catch (e) { if (e instanceof TransferError && e.code === "bad_location") console.error(e.message) }
 * ```
 */
export class TransferError extends Error {
  readonly code: TransferErrorCode;
  constructor(code: TransferErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransferError";
    this.code = code;
  }
}

/** The clients table of a database, read and written row by row, as `copy`, `export` and `import` need it. */
export interface RecordDatabase {
  /** How to name it in messages (a password is never shown). */
  readonly description: string;
  /** Number of stored clients, every account. */
  count(): Promise<number>;
  /** Up to `limit` records whose client_id sorts after `after` (null: from the start), in client_id order. */
  readPage(after: string | null, limit: number): Promise<StoredClient[]>;
  /** The stored records among `ids`, by client_id. */
  readByIds(ids: readonly string[]): Promise<Map<string, StoredClient>>;
  /**
   * Inserts `inserts` and replaces the rows of `replacements` (same
   * client_id), as they are, in one transaction. Rejects, having written
   * nothing, if one of `inserts` exists by then.
   */
  write(inserts: readonly StoredClient[], replacements: readonly StoredClient[]): Promise<void>;
  close(): Promise<void>;
}

/** Rows per read and per write transaction: well under every dialect's parameter limit. */
export const TRANSFER_BATCH = 500;
/**
 * Text per INSERT in UTF-16 code units: at most 3 MiB of UTF-8, under
 * MySQL's smallest `max_allowed_packet` (4 MiB). A larger row goes alone.
 */
const INSERT_CHARS = 1 << 20;

interface TransferTables {
  oauth_clients: OAuthClientsTable;
}

/**
 * The clients table of a database through Kysely: the table
 * `createKyselyStore` and `createSqliteStore` use, already created or
 * migrated (by `migrateToLatest`, or by opening the SQLite store once).
 *
 * @example
 * ```ts
 * import { Kysely } from "kysely";
 * import { PGlite } from "@electric-sql/pglite";
 * import { PGliteDialect } from "kysely-pglite-dialect";
 * import { migrateToLatest } from "oauth-client-registry/kysely";
 *
 * const db = new Kysely<unknown>({ dialect: new PGliteDialect(new PGlite()) });
 * await migrateToLatest(db);
 * const records = kyselyRecordDatabase(db, "PGlite");
 * console.log(await records.count());
 * ```
 */
export function kyselyRecordDatabase(db: Kysely<unknown>, description: string, close: () => Promise<void> = async () => {}): RecordDatabase {
  const k = db as unknown as Kysely<TransferTables>;
  const decode = (row: ClientRowRead) => fromClientRow(row);
  return {
    description,
    async count() {
      const row = await k.selectFrom("oauth_clients").select((e) => e.fn.countAll().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async readPage(after, limit) {
      let query = k.selectFrom("oauth_clients").select(CLIENT_COLUMNS).orderBy("client_id").limit(limit);
      if (after !== null) query = query.where("client_id", ">", after);
      return (await query.execute()).map(decode);
    },
    async readByIds(ids) {
      const found = new Map<string, StoredClient>();
      if (ids.length === 0) return found;
      const rows = await k.selectFrom("oauth_clients").select(CLIENT_COLUMNS).where("client_id", "in", [...ids]).execute();
      for (const row of rows) found.set(row.client_id, decode(row));
      return found;
    },
    async write(inserts, replacements) {
      if (inserts.length === 0 && replacements.length === 0) return;
      await k.transaction().execute(async (trx) => {
        for (const chunk of insertChunks(inserts.map(toClientRow))) await trx.insertInto("oauth_clients").values(chunk).execute();
        for (const record of replacements) {
          const { client_id, ...rest } = toClientRow(record);
          await trx.updateTable("oauth_clients").set(rest).where("client_id", "=", client_id).execute();
        }
      });
    },
    close,
  };
}

/** Splits rows into multi-row INSERTs of at most {@link INSERT_CHARS} of text each. */
function insertChunks(rows: readonly OAuthClientsTable[]): OAuthClientsTable[][] {
  const chunks: OAuthClientsTable[][] = [];
  let chunk: OAuthClientsTable[] = [];
  let size = 0;
  for (const row of rows) {
    const rowSize = row.document.length + row.client_id.length + row.account_id.length + 64;
    if (chunk.length > 0 && size + rowSize > INSERT_CHARS) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += rowSize;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** What a location string names. */
export type LocationKind = "sqlite" | "postgres" | "mysql";

/**
 * The kind of store a `--from` / `--to` value names: a `postgres://` or
 * `postgresql://` URL, a `mysql://` or `mariadb://` URL, else a SQLite file.
 *
 * @example
 * ```ts
 * locationKind("postgres://db.internal/registry"); // "postgres"
 * locationKind("./oauth-clients.sqlite");          // "sqlite"
 * ```
 */
export function locationKind(location: string): LocationKind {
  if (/^postgres(ql)?:\/\//i.test(location)) return "postgres";
  if (/^(mysql|mariadb):\/\//i.test(location)) return "mysql";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new TransferError("bad_location", `${location.split("://")[0]}:// is not a supported store: use a SQLite file, postgres:// or mysql://`);
  }
  return "sqlite";
}

/** Removes the password from a database URL before it is shown. */
export function redactLocation(location: string): string {
  if (locationKind(location) === "sqlite") return `SQLite ${resolve(location)}`;
  try {
    const url = new URL(location);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "<unparseable database URL>";
  }
}

function isMissingModule(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "ERR_MODULE_NOT_FOUND";
}

/** Imports a driver, or fails with the install command that provides it. */
async function load<T>(what: string, install: string, loader: () => Promise<T>): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    if (isMissingModule(error)) throw new TransferError("missing_driver", `${what} needs ${install}: npm install ${install}`, { cause: error });
    throw error;
  }
}

/**
 * Opens the clients table at a location (see {@link locationKind}), with
 * the schema created or migrated to the latest version first, as `serve`
 * would. With `create: false` (a source) a SQLite file must exist already.
 *
 * @example
 * ```ts
 * const target = await openRecordDatabase("postgres://registry@db.internal/registry", { create: true });
 * try { console.log(await target.count()) } finally { await target.close() }
 * ```
 */
export async function openRecordDatabase(location: string, options: { create: boolean }): Promise<RecordDatabase> {
  const kind = locationKind(location);
  const description = redactLocation(location);
  const kysely = await load("copy, export and import", "kysely", () => import("kysely"));
  const adapter = await import("../../adapters/kysely.js");
  if (kind === "sqlite") {
    const path = resolve(location);
    if (!options.create && !existsSync(path)) throw new TransferError("bad_location", `no SQLite database at ${path}`);
    const driver = await load("SQLite", "better-sqlite3", () => import("better-sqlite3"));
    const Database = driver.default;
    let database: InstanceType<typeof Database>;
    try {
      database = new Database(path);
      database.pragma("journal_mode = WAL");
      database.pragma("busy_timeout = 5000");
      // The SQLite store creates or migrates the table on the same handle (and checks it is one of its layouts).
      const sqlite = await import("../../adapters/sqlite.js");
      await sqlite.createSqliteStore(database).close();
    } catch (error) {
      throw new TransferError("unavailable", `cannot open ${description}: ${messageOf(error)}`, { cause: error });
    }
    const db = new kysely.Kysely<unknown>({ dialect: new kysely.SqliteDialect({ database }) });
    return kyselyRecordDatabase(db, description, () => db.destroy());
  }
  let db: Kysely<unknown>;
  if (kind === "postgres") {
    const pg = await load("PostgreSQL", "pg", () => import("pg"));
    const Pool = pg.default?.Pool ?? pg.Pool;
    db = new kysely.Kysely<unknown>({
      dialect: new kysely.PostgresDialect({ pool: new Pool({ connectionString: location, max: 4, connectionTimeoutMillis: 5000 }) }),
    });
  } else {
    const mysql = await load("MySQL and MariaDB", "mysql2", () => import("mysql2"));
    const createPool = mysql.default?.createPool ?? mysql.createPool;
    const url = location.replace(/^mariadb:/i, "mysql:");
    db = new kysely.Kysely<unknown>({ dialect: new kysely.MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 4, connectTimeout: 5000 }) }) });
  }
  try {
    await adapter.migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new TransferError("unavailable", `cannot open ${description}: ${messageOf(error)}`, { cause: error });
  }
  return kyselyRecordDatabase(db, description, () => db.destroy());
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}

// ---------------------------------------------------------------------------
// Records: validation, canonical form, checksums

/** Record keys outside the field table, with their schemas. */
const STORAGE_KEYS = {
  account_id: z.string(),
  secret_hash: z.string().nullable(),
  rotated_secret_hash: z.string().nullable(),
  rotated_at: z.string().nullable(),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
} as const;

/**
 * The schema of one stored record: every stored field of the field table
 * with its read shape (null allowed where the field is nullable; fields
 * with a default may be missing, as in records written before they
 * existed), and the storage keys. Unknown keys are refused: they would be
 * dropped on the way, or come from a newer version of this library.
 */
const recordSchema = z.strictObject({
  ...Object.fromEntries(
    Object.entries(CLIENT_FIELDS)
      .filter(([, spec]) => !("computed" in spec))
      .map(([name, spec]) => {
        let schema: z.ZodType = spec.read;
        if ("nullable" in spec) schema = schema.nullable();
        if ("initial" in spec) schema = schema.optional();
        return [name, schema];
      }),
  ),
  ...STORAGE_KEYS,
});

/**
 * Parses one JSON Lines line into a stored record, or says why it is not
 * one (the first few problems, each with its JSON pointer).
 *
 * @example
 * ```ts
 * const parsed = parseRecordLine('{"client_id":"x"}');
 * if ("problem" in parsed) console.error(parsed.problem); // "/account_id: …"
 * ```
 */
export function parseRecordLine(line: string): { record: StoredClient } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { problem: `not JSON (${messageOf(error)})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "not a JSON object" };
  const result = recordSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 3).map((issue) => `/${issue.path.join("/")}: ${issue.message}`);
    return { problem: issues.join("; ") + (result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : "") };
  }
  const record = fillStoredDefaults(result.data as Record<string, unknown>) as unknown as StoredClient;
  if (!isPlausibleClientId(record.client_id) || record.client_id === "") return { problem: "/client_id: not a usable client id" };
  const accountProblem = accountIdIssue(record.account_id);
  if (accountProblem !== null) return { problem: `${accountProblem.path}: ${accountProblem.message}` };
  return { record };
}

/** JSON with object keys sorted at every level: one spelling per record, whatever the key order it was read in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** A record as a row would read it back: the same defaults filled, whatever it came from. */
function normalized(record: StoredClient): StoredClient {
  return fromClientRow(toClientRow(record));
}

/** Count and checksum of an account's records. */
export interface AccountSummary {
  count: number;
  /**
   * 16 hex digits: the sum, modulo 2^64, of the first 8 bytes of the
   * SHA-256 of each record's canonical JSON. Independent of order, so two
   * databases that sort text differently still agree.
   */
  checksum: string;
}

/** Accumulates per-account counts and checksums. */
export class AccountChecksums {
  readonly #sums = new Map<string, { count: number; sum: bigint }>();

  /** Adds one record. */
  add(record: StoredClient): void {
    const digest = createHash("sha256").update(canonicalJson(record)).digest();
    const entry = this.#sums.get(record.account_id) ?? { count: 0, sum: 0n };
    entry.count += 1;
    entry.sum = (entry.sum + digest.readBigUInt64BE(0)) & 0xffff_ffff_ffff_ffffn;
    this.#sums.set(record.account_id, entry);
  }

  /** Every account seen, sorted by id. */
  summaries(): Map<string, AccountSummary> {
    const out = new Map<string, AccountSummary>();
    for (const account of [...this.#sums.keys()].sort()) {
      const { count, sum } = this.#sums.get(account)!;
      out.set(account, { count, checksum: sum.toString(16).padStart(16, "0") });
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Writing

/** What to do with a client that exists in the target with other content. */
export type ConflictPolicy = "skip" | "overwrite";

/** A client that exists in the target with other content. */
export interface TransferConflict {
  client_id: string;
  account_id: string;
  /** The target's account and version, which may differ from the source's. */
  target_account_id: string;
  target_version: number;
  /** Whether it was replaced (`--on-conflict overwrite`) or left alone. */
  overwritten: boolean;
}

/** The outcome of a transfer. */
export interface TransferReport {
  /** Records read from the source. */
  read: number;
  /** Records written that the target did not have. */
  inserted: number;
  /** Records the target already held, identical. */
  unchanged: number;
  conflicts: TransferConflict[];
  /** Per account of the source: its count and checksum there, and those of the same clients in the target after the run. */
  accounts: Map<string, { source: AccountSummary; target: AccountSummary }>;
  /** True when every account's clients are identical in the target. */
  verified: boolean;
}

/** Options of {@link transferRecords}. */
export interface TransferOptions {
  /** Default `"skip"`: a differing client in the target is reported and left alone. */
  onConflict?: ConflictPolicy;
  /** Called after each batch with the records done so far. */
  onProgress?: (done: number) => void;
}

/**
 * Writes records into a target, batch by batch: a client the target lacks
 * is inserted as it is, an identical one is left as it is (so a second run
 * changes nothing), a differing one is reported and left alone unless
 * `onConflict` is `"overwrite"`. Each batch is one transaction. Then reads
 * every written client back and compares counts and checksums per account.
 *
 * @example
 * ```ts
 * const source = await openRecordDatabase("./oauth-clients.sqlite", { create: false });
 * const target = await openRecordDatabase("postgres://registry@db.internal/registry", { create: true });
 * const report = await transferRecords(readAll(source), target);
 * console.log(report.inserted, report.verified);
 * ```
 */
export async function transferRecords(
  records: AsyncIterable<StoredClient[]> | Iterable<StoredClient[]>,
  target: RecordDatabase,
  options: TransferOptions = {},
): Promise<TransferReport> {
  const policy = options.onConflict ?? "skip";
  const source = new AccountChecksums();
  const ids: string[] = [];
  const report: Omit<TransferReport, "accounts" | "verified"> = { read: 0, inserted: 0, unchanged: 0, conflicts: [] };
  for await (const batch of records) {
    const wanted = batch.map(normalized);
    for (const record of wanted) {
      source.add(record);
      ids.push(record.client_id);
    }
    report.read += wanted.length;
    for (let attempt = 1; ; attempt++) {
      const existing = await target.readByIds(wanted.map((r) => r.client_id));
      const inserts: StoredClient[] = [];
      const replacements: StoredClient[] = [];
      const conflicts: TransferConflict[] = [];
      let unchanged = 0;
      for (const record of wanted) {
        const held = existing.get(record.client_id);
        if (held === undefined) inserts.push(record);
        else if (canonicalJson(held) === canonicalJson(record)) unchanged++;
        else {
          conflicts.push({
            client_id: record.client_id,
            account_id: record.account_id,
            target_account_id: held.account_id,
            target_version: held.version,
            overwritten: policy === "overwrite",
          });
          if (policy === "overwrite") replacements.push(record);
        }
      }
      try {
        await target.write(inserts, replacements);
      } catch (error) {
        // Another writer inserted one of these ids since they were read: read again and decide again.
        if (attempt < 3) continue;
        throw error;
      }
      report.inserted += inserts.length;
      report.unchanged += unchanged;
      report.conflicts.push(...conflicts);
      break;
    }
    options.onProgress?.(report.read);
  }
  return { ...report, ...(await verify(source.summaries(), ids, target)) };
}

/**
 * Reads back the clients with these ids from the target and compares each
 * account's count and checksum with the source's. Only the source's ids
 * are read, so clients that only the target has do not count; a client the
 * target holds under another account counts there.
 */
async function verify(
  sourceSummaries: Map<string, AccountSummary>,
  ids: readonly string[],
  target: RecordDatabase,
): Promise<Pick<TransferReport, "accounts" | "verified">> {
  const found = new AccountChecksums();
  for (let start = 0; start < ids.length; start += TRANSFER_BATCH) {
    for (const record of (await target.readByIds(ids.slice(start, start + TRANSFER_BATCH))).values()) found.add(record);
  }
  const targetSummaries = found.summaries();
  const empty: AccountSummary = { count: 0, checksum: "0".repeat(16) };
  const accounts = new Map<string, { source: AccountSummary; target: AccountSummary }>();
  let verified = true;
  for (const account of [...new Set([...sourceSummaries.keys(), ...targetSummaries.keys()])].sort()) {
    const entry = { source: sourceSummaries.get(account) ?? empty, target: targetSummaries.get(account) ?? empty };
    if (entry.source.count !== entry.target.count || entry.source.checksum !== entry.target.checksum) verified = false;
    accounts.set(account, entry);
  }
  return { accounts, verified };
}

// ---------------------------------------------------------------------------
// Reading

/**
 * Every record of a database, in batches of {@link TRANSFER_BATCH}, in
 * client_id order (keyset pages, so a large table is never all in memory).
 *
 * @example
 * ```ts
 * const source = await openRecordDatabase("./oauth-clients.sqlite", { create: false });
 * for await (const batch of readAll(source)) console.log(batch.length);
 * ```
 */
export async function* readAll(source: RecordDatabase): AsyncGenerator<StoredClient[]> {
  let after: string | null = null;
  for (;;) {
    const page = await source.readPage(after, TRANSFER_BATCH);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!.client_id;
  }
}

/** A line of JSON Lines input that is not a stored record. */
export interface BadLine {
  /** 1-based. */
  line: number;
  problem: string;
}

/**
 * Parses JSON Lines into records, all of them before anything is written:
 * either every line is a record (blank lines are skipped) or the bad lines
 * are returned, each with its number. A client id seen twice is a bad line
 * (the later one). Takes the text, or its lines one by one (a large input
 * is then never one string).
 *
 * @example
 * ```ts
 * const parsed = await parseRecordLines('{"client_id":"a"}\n');
 * if ("bad" in parsed) for (const { line, problem } of parsed.bad) console.error(`line ${line}: ${problem}`);
 * ```
 */
export async function parseRecordLines(input: string | AsyncIterable<string> | Iterable<string>): Promise<{ records: StoredClient[] } | { bad: BadLine[] }> {
  const records: StoredClient[] = [];
  const bad: BadLine[] = [];
  const seen = new Map<string, number>();
  let number = 0;
  for await (const raw of typeof input === "string" ? input.split("\n") : input) {
    number++;
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const parsed = parseRecordLine(line);
    if ("problem" in parsed) {
      bad.push({ line: number, problem: parsed.problem });
      continue;
    }
    const first = seen.get(parsed.record.client_id);
    if (first !== undefined) {
      bad.push({ line: number, problem: `client ${JSON.stringify(parsed.record.client_id)} is already on line ${first}` });
      continue;
    }
    seen.set(parsed.record.client_id, number);
    records.push(parsed.record);
  }
  return bad.length > 0 ? { bad } : { records };
}

/**
 * Batches of an array, {@link TRANSFER_BATCH} records each.
 *
 * @example
 * ```ts
 * const parsed = await parseRecordLines(await new Response(process.stdin as unknown as ReadableStream).text());
 * const target = await openRecordDatabase("./oauth-clients.sqlite", { create: true });
 * if ("records" in parsed) await transferRecords(inBatches(parsed.records), target);
 * ```
 */
export function* inBatches<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += TRANSFER_BATCH) yield items.slice(start, start + TRANSFER_BATCH);
}
