/**
 * The baselines: the least a hand-written store must do for each operation
 * on each backend, written directly against the driver. Every baseline
 * returns decoded records (the document parsed and the key columns put
 * back), so that both sides of a row do the same work.
 */
import type { ListPosition, StoredClient } from "../src/model/store.js";
import { compareListOrder } from "./population.js";

/** A baseline store: the driver-level calls the operations are built from. */
export interface RawStore {
  /** One sentence saying what the driver calls are (goes into the report). */
  readonly describes: string;
  get(accountId: string, clientId: string): StoredClient | null | Promise<StoredClient | null>;
  getById(clientId: string): StoredClient | null | Promise<StoredClient | null>;
  list(accountId: string, after: ListPosition | null, limit: number): StoredClient[] | Promise<StoredClient[]>;
  insert(record: StoredClient): boolean | Promise<boolean>;
  /** Compare-and-swap on the version, as every store must. */
  update(record: StoredClient, expectedVersion: number): boolean | Promise<boolean>;
  delete(accountId: string, clientId: string): boolean | Promise<boolean>;
  /**
   * A page found without an index on the list order's position: `LIMIT …
   * OFFSET …` in SQL, filter-sort-slice in memory. What keyset pagination
   * saves is measured against it.
   */
  listWithoutKeyset(accountId: string, offset: number, limit: number): StoredClient[] | Promise<StoredClient[]>;
  /** How {@link RawStore.listWithoutKeyset} finds the page, for the report. */
  readonly withoutKeyset: string;
  /** Untimed bulk load (one transaction, or multi-row statements). */
  load(records: readonly StoredClient[]): void | Promise<void>;
}

/** The key columns of a row and the JSON document of every other key. */
interface Row {
  client_id: string;
  account_id: string;
  created_at: string;
  version: number | string | bigint;
  document: string;
}

function encode(record: StoredClient): Row {
  const { client_id, account_id, created_at, version, ...document } = record;
  return { client_id, account_id, created_at, version, document: JSON.stringify(document) };
}

function decode(row: Row): StoredClient {
  const record = JSON.parse(row.document) as StoredClient;
  record.client_id = row.client_id;
  record.account_id = row.account_id;
  record.created_at = row.created_at;
  record.version = Number(row.version);
  return record;
}

/**
 * A plain `Map` by id plus, per account, an array of records sorted in list
 * order (binary search to find a position, `splice` to insert or remove).
 * Reads hand out a shallow copy, so a caller cannot replace the stored
 * record's fields.
 *
 * @example
 * const raw = mapBaseline();
 * raw.load(population.records);
 * raw.get(ACCOUNT, clientId); // a copy of the record, or null
 */
export function mapBaseline(): RawStore {
  const byId = new Map<string, StoredClient>();
  const sorted = new Map<string, StoredClient[]>();
  const lowerBound = (list: readonly StoredClient[], key: ListPosition) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareListOrder(list[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upperBound = (list: readonly StoredClient[], key: ListPosition) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareListOrder(list[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const insert = (record: StoredClient) => {
    if (byId.has(record.client_id)) return false;
    byId.set(record.client_id, record);
    let list = sorted.get(record.account_id);
    if (!list) sorted.set(record.account_id, (list = []));
    list.splice(upperBound(list, record), 0, record);
    return true;
  };
  return {
    describes: "a Map by id and a sorted array per account (binary search, splice), shallow copies out",
    get(accountId, clientId) {
      const record = byId.get(clientId);
      return record && record.account_id === accountId ? { ...record } : null;
    },
    getById(clientId) {
      const record = byId.get(clientId);
      return record ? { ...record } : null;
    },
    list(accountId, after, limit) {
      const list = sorted.get(accountId) ?? [];
      const start = after ? upperBound(list, after) : 0;
      return list.slice(start, start + limit).map((r) => ({ ...r }));
    },
    insert,
    update(record, expectedVersion) {
      const current = byId.get(record.client_id);
      if (!current || current.account_id !== record.account_id || current.version !== expectedVersion) return false;
      byId.set(record.client_id, record);
      const list = sorted.get(record.account_id)!;
      list[lowerBound(list, current)] = record;
      return true;
    },
    delete(accountId, clientId) {
      const current = byId.get(clientId);
      if (!current || current.account_id !== accountId) return false;
      byId.delete(clientId);
      const list = sorted.get(accountId)!;
      list.splice(lowerBound(list, current), 1);
      return true;
    },
    withoutKeyset: "scan every record, keep the account's, sort, slice",
    listWithoutKeyset(accountId, offset, limit) {
      const mine: StoredClient[] = [];
      for (const record of byId.values()) if (record.account_id === accountId) mine.push(record);
      return mine.sort(compareListOrder).slice(offset, offset + limit).map((r) => ({ ...r }));
    },
    load(records) {
      for (const r of [...records].sort(compareListOrder)) insert(r);
    },
  };
}

/** SQL texts of the baseline, in the dialect's placeholder style. */
export interface SqlTexts {
  get: string;
  getById: string;
  listFirst: string;
  listAfter: string;
  insert: string;
  update: string;
  delete: string;
  listOffset: string;
  /** How listAfter spells the keyset: `(created_at, client_id) > (?, ?)` or Kysely's expanded form. */
  keyset: "row-value" | "expanded";
}

const COLUMNS = `"client_id", "account_id", "created_at", "version", "document"`;

/**
 * The statements a SQL store needs, spelled as Kysely compiles the
 * adapter's queries (lower-case keywords, quoted names; the keyset page as
 * `created_at >= ? and (created_at > ? or client_id > ?)`), with `?` or
 * `$n` placeholders.
 *
 * @example
 * sqlTexts("oauth_clients", "$n").get; // select … where "client_id" = $1 and "account_id" = $2
 */
export function sqlTexts(table: string, placeholders: "?" | "$n", keyset: SqlTexts["keyset"] = "expanded"): SqlTexts {
  const t = `"${table}"`;
  const texts: SqlTexts = {
    get: `select ${COLUMNS} from ${t} where "client_id" = ? and "account_id" = ?`,
    getById: `select ${COLUMNS} from ${t} where "client_id" = ?`,
    listFirst: `select ${COLUMNS} from ${t} where "account_id" = ? order by "created_at", "client_id" limit ?`,
    listAfter:
      keyset === "row-value"
        ? `select ${COLUMNS} from ${t} where "account_id" = ? and ("created_at", "client_id") > (?, ?) order by "created_at", "client_id" limit ?`
        : `select ${COLUMNS} from ${t} where "account_id" = ? and "created_at" >= ? and ("created_at" > ? or "client_id" > ?) ` +
          `order by "created_at", "client_id" limit ?`,
    insert: `insert into ${t} (${COLUMNS}) values (?, ?, ?, ?, ?)`,
    update: `update ${t} set "created_at" = ?, "version" = ?, "document" = ? where "client_id" = ? and "account_id" = ? and "version" = ?`,
    delete: `delete from ${t} where "client_id" = ? and "account_id" = ?`,
    listOffset: `select ${COLUMNS} from ${t} where "account_id" = ? order by "created_at", "client_id" limit ? offset ?`,
    keyset,
  };
  if (placeholders === "?") return texts;
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return Object.fromEntries(Object.entries(texts).map(([k, v]) => [k, k === "keyset" ? v : numbered(v)])) as unknown as SqlTexts;
}

/** A value bound to a `?` parameter. */
type SqliteParam = string | number | null;

/**
 * The synchronous calls every SQLite baseline makes, which better-sqlite3's
 * `Database`, node:sqlite's `DatabaseSync` and bun:sqlite's `Database` all
 * have, so each driver's baseline is the same code on its own statements.
 */
export interface SyncSqliteDatabase {
  /** Returns a {@link SyncSqliteStatement}; typed loosely so that better-sqlite3's generic statements fit. */
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
}

/** A prepared statement of any of those drivers (bun:sqlite's `get` answers null for no row). */
export interface SyncSqliteStatement {
  get(...params: SqliteParam[]): unknown;
  all(...params: SqliteParam[]): unknown[];
  /** node:sqlite may count changes as a bigint. */
  run(...params: SqliteParam[]): { changes: number | bigint };
}

/**
 * Statements prepared once on `db` (better-sqlite3, node:sqlite or
 * bun:sqlite), with `texts` (the SQLite store's own statements differ only
 * in spelling; Kysely's are these). `driver` names the driver for the report.
 *
 * @example
 * const raw = sqliteBaseline(new Database(file), sqlTexts("oauth_clients", "?", "row-value"));
 * raw.get(ACCOUNT, clientId);
 */
export function sqliteBaseline(db: SyncSqliteDatabase, texts: SqlTexts, driver = "better-sqlite3"): RawStore {
  const prepare = (sql: string) => db.prepare(sql) as SyncSqliteStatement;
  const s = {
    get: prepare(texts.get),
    getById: prepare(texts.getById),
    listFirst: prepare(texts.listFirst),
    listAfter: prepare(texts.listAfter),
    insert: prepare(texts.insert),
    update: prepare(texts.update),
    delete: prepare(texts.delete),
    listOffset: prepare(texts.listOffset),
  };
  const insertRow = (record: StoredClient) => {
    const row = encode(record);
    return Number(s.insert.run(row.client_id, row.account_id, row.created_at, Number(row.version), row.document).changes) === 1;
  };
  return {
    describes: `${driver} statements prepared once, JSON.parse/JSON.stringify of the document`,
    get(accountId, clientId) {
      const row = s.get.get(clientId, accountId) as Row | null | undefined;
      return row ? decode(row) : null;
    },
    getById(clientId) {
      const row = s.getById.get(clientId) as Row | null | undefined;
      return row ? decode(row) : null;
    },
    list(accountId, after, limit) {
      const rows = (
        after
          ? texts.keyset === "row-value"
            ? s.listAfter.all(accountId, after.created_at, after.client_id, limit)
            : s.listAfter.all(accountId, after.created_at, after.created_at, after.client_id, limit)
          : s.listFirst.all(accountId, limit)
      ) as Row[];
      return rows.map(decode);
    },
    insert: insertRow,
    update(record, expectedVersion) {
      const row = encode(record);
      return Number(s.update.run(row.created_at, Number(row.version), row.document, row.client_id, row.account_id, expectedVersion).changes) === 1;
    },
    delete(accountId, clientId) {
      return Number(s.delete.run(clientId, accountId).changes) === 1;
    },
    withoutKeyset: "LIMIT … OFFSET … on the same table and index",
    listWithoutKeyset(accountId, offset, limit) {
      return (s.listOffset.all(accountId, limit, offset) as Row[]).map(decode);
    },
    load(records) {
      // Plain SQL: only better-sqlite3 has a transaction helper.
      db.exec("BEGIN");
      try {
        for (const r of records) insertRow(r);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
  };
}

/** A PostgreSQL driver call: PGlite's `query` and pg's `Pool#query` both fit. */
export type PgQuery = (sql: string, params: unknown[]) => Promise<{ rows: Row[]; count: number }>;

/** Rows per statement of the bulk load (5 parameters each, far below PostgreSQL's 65 535). */
const LOAD_CHUNK = 500;

/**
 * The driver's own query call with the same SQL as Kysely sends (no query builder, no compilation).
 *
 * @example
 * const raw = pgBaseline(async (sql, params) => { const r = await pglite.query(sql, params); return { rows: r.rows, count: r.affectedRows ?? 0 } }, sqlTexts(table, "$n"), table, "PGlite");
 */
export function pgBaseline(query: PgQuery, texts: SqlTexts, table: string, driver: string): RawStore {
  return {
    describes: `${driver} query calls with the SQL Kysely sends, JSON.parse/JSON.stringify of the document`,
    async get(accountId, clientId) {
      const { rows } = await query(texts.get, [clientId, accountId]);
      return rows[0] ? decode(rows[0]) : null;
    },
    async getById(clientId) {
      const { rows } = await query(texts.getById, [clientId]);
      return rows[0] ? decode(rows[0]) : null;
    },
    async list(accountId, after, limit) {
      const { rows } = after
        ? await query(texts.listAfter, [accountId, after.created_at, after.created_at, after.client_id, limit])
        : await query(texts.listFirst, [accountId, limit]);
      return rows.map(decode);
    },
    async insert(record) {
      const row = encode(record);
      return (await query(texts.insert, [row.client_id, row.account_id, row.created_at, row.version, row.document])).count === 1;
    },
    async update(record, expectedVersion) {
      const row = encode(record);
      const { count } = await query(texts.update, [row.created_at, row.version, row.document, row.client_id, row.account_id, expectedVersion]);
      return count === 1;
    },
    async delete(accountId, clientId) {
      return (await query(texts.delete, [clientId, accountId])).count === 1;
    },
    withoutKeyset: "LIMIT … OFFSET … on the same table and index",
    async listWithoutKeyset(accountId, offset, limit) {
      return (await query(texts.listOffset, [accountId, limit, offset])).rows.map(decode);
    },
    async load(records) {
      for (let at = 0; at < records.length; at += LOAD_CHUNK) {
        const chunk = records.slice(at, at + LOAD_CHUNK).map(encode);
        const values = chunk.map((_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5})`);
        await query(`insert into "${table}" (${COLUMNS}) values ${values.join(", ")}`, chunk.flatMap((r) => [r.client_id, r.account_id, r.created_at, r.version, r.document]));
      }
    },
  };
}
