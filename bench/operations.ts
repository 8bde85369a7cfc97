/**
 * The eight operations, each as a pair of workloads: the registry's public
 * call (every rule, the store, the wire object) and its baseline (the
 * driver calls a minimal store would make, see baselines.ts). Writes put
 * the store back after each batch, untimed, so its size never drifts.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { encodeCursor } from "../src/model/ids.js";
import type { CreateClientInput, OAuthClientRegistry } from "../src/index.js";
import type { ClientStore, StoredClient } from "../src/model/store.js";
import { pickDistinct, type Workload } from "./harness.js";
import type { RawStore } from "./baselines.js";
import { ACCOUNT, PAGE, randomClientId, SECRET, sha256Stored, type Population } from "./population.js";

export const OPERATIONS = [
  "get",
  "create",
  "update",
  "delete",
  "list first page",
  "list last page",
  "authenticate",
  "rotate",
] as const;
export type Operation = (typeof OPERATIONS)[number];

/** What each baseline does, for the report. */
export const BASELINE_WORK: Record<Operation, string> = {
  get: "select by id and account, decode",
  create: "new id, new secret + SHA-256 (node:crypto), record from a template, encode, insert",
  update: "select, decode, change the name, encode, compare-and-swap update on the version",
  delete: "delete by id and account",
  "list first page": `select ${PAGE + 1} in list order, decode (the +1 tells whether a next page exists, as ours does)`,
  "list last page": `keyset select of ${PAGE + 1} after the position of the last page, decode`,
  authenticate: "select by id, decode, SHA-256 of the secret (node:crypto), timingSafeEqual",
  rotate: "select, decode, new secret + SHA-256, encode, compare-and-swap update",
};

/** Ours and the baseline of one operation. */
export interface OperationPair {
  ours: Workload;
  baseline: Workload;
}

/** What a create sends: a typical confidential client. */
export const CREATE_INPUT: CreateClientInput = {
  client_name: "Bench app",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  redirect_uris: ["https://app.example.com/callback", "https://app.example.com/callback/alt"],
  scopes: ["profile", "email"],
  token_endpoint_auth_method: "client_secret_basic",
  allowed_cors_origins: ["https://app.example.com"],
};

/** Most prepared clients a write batch consumes: a small share of the write pool. */
function writeBatch(population: Population): number {
  return Math.max(1, Math.min(64, Math.floor(population.writePool.length / 4)));
}

function randomPicks(pool: readonly StoredClient[], n: number, random: () => number): string[] {
  return Array.from({ length: n }, () => pool[Math.floor(random() * pool.length)]!.client_id);
}

function secretMatches(secret: string, stored: string | null): boolean {
  if (stored === null || !stored.startsWith("sha256$")) return false;
  const expected = Buffer.from(stored.slice("sha256$".length), "hex");
  const actual = createHash("sha256").update(secret).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const now = () => new Date().toISOString();

/**
 * The workloads of every operation on one opened store.
 *
 * @example
 * const pairs = operationPairs(registry, store, raw, population, seededRandom(1));
 * await interleave({ ours: pairs.get.ours, baseline: pairs.get.baseline }, options);
 */
export function operationPairs(
  registry: OAuthClientRegistry,
  store: ClientStore,
  raw: RawStore,
  population: Population,
  random: () => number,
): Record<Operation, OperationPair> {
  const template = population.records[0]!;
  const lastCursor = encodeCursor(population.lastPageAfter);
  const batch = writeBatch(population);
  let counter = 0;

  /** Calls on random clients of a pool (the read pool unless said otherwise). */
  const reads = (call: (id: string) => unknown, pool = population.readPool): Workload => {
    let ids: string[] = [];
    return { setup: (n) => (ids = randomPicks(pool, n, random)), run: (i) => call(ids[i]!) };
  };
  /** Writes to distinct clients of the write pool, each put back by `restore`. */
  const writes = (call: (record: StoredClient) => unknown, restore: (record: StoredClient) => unknown): Workload => {
    let picked: StoredClient[] = [];
    return {
      maxBatch: batch,
      setup: (n) => (picked = pickDistinct(population.writePool, n, random)),
      run: (i) => call(picked[i]!),
      teardown: async () => {
        for (const record of picked) await restore(record);
      },
    };
  };
  /** Creates, deleted again after the batch. */
  const creates = (call: () => Promise<string>, remove: (id: string) => unknown): Workload => {
    let created: string[] = [];
    return {
      maxBatch: batch,
      setup: () => (created = []),
      run: async () => void created.push(await call()),
      teardown: async () => {
        for (const id of created) await remove(id);
      },
    };
  };

  const rawRotate = async (record: StoredClient) => {
    const current = (await raw.get(ACCOUNT, record.client_id))!;
    const secret = randomBytes(32).toString("base64url");
    const at = now();
    const next = { ...current, rotated_secret_hash: current.secret_hash, secret_hash: sha256Stored(secret), rotated_at: at, updated_at: at, version: current.version + 1 };
    if (!(await raw.update(next, current.version))) throw new Error("baseline rotate lost its compare-and-swap");
    return secret;
  };
  const rawEndRotation = async (record: StoredClient) => {
    const current = (await raw.get(ACCOUNT, record.client_id))!;
    await raw.update({ ...current, rotated_secret_hash: null, rotated_at: null, version: current.version + 1 }, current.version);
  };

  return {
    get: {
      ours: reads((id) => registry.get(ACCOUNT, id)),
      baseline: reads((id) => raw.get(ACCOUNT, id)),
    },
    create: {
      ours: creates(
        async () => (await registry.create(ACCOUNT, CREATE_INPUT)).client_id,
        (id) => store.delete(ACCOUNT, id),
      ),
      baseline: creates(
        async () => {
          const secret = randomBytes(32).toString("base64url");
          const at = now();
          const record = { ...template, client_id: randomClientId(), secret_hash: sha256Stored(secret), created_at: at, updated_at: at, version: 1 };
          if (!(await raw.insert(record))) throw new Error("baseline insert refused a new id");
          return record.client_id;
        },
        (id) => raw.delete(ACCOUNT, id),
      ),
    },
    update: {
      ours: reads((id) => registry.update(ACCOUNT, id, { client_name: `Renamed ${++counter}` }), population.writePool),
      baseline: reads(async (id) => {
        const current = (await raw.get(ACCOUNT, id))!;
        const next = { ...current, client_name: `Renamed ${++counter}`, updated_at: now(), version: current.version + 1 };
        if (!(await raw.update(next, current.version))) throw new Error("baseline update lost its compare-and-swap");
      }, population.writePool),
    },
    delete: {
      ours: writes(
        (record) => registry.delete(ACCOUNT, record.client_id),
        (record) => store.insert(record),
      ),
      baseline: writes(
        (record) => raw.delete(ACCOUNT, record.client_id),
        (record) => raw.insert(record),
      ),
    },
    "list first page": {
      ours: { run: () => registry.list(ACCOUNT, { limit: PAGE }) },
      baseline: { run: () => raw.list(ACCOUNT, null, PAGE + 1) },
    },
    "list last page": {
      ours: { run: () => registry.list(ACCOUNT, { limit: PAGE, cursor: lastCursor }) },
      baseline: { run: () => raw.list(ACCOUNT, population.lastPageAfter, PAGE + 1) },
    },
    authenticate: {
      ours: reads((id) => registry.authenticate(id, SECRET), population.authPool),
      baseline: reads(async (id) => {
        const record = await raw.getById(id);
        return record !== null && (secretMatches(SECRET, record.secret_hash) || secretMatches(SECRET, record.rotated_secret_hash));
      }, population.authPool),
    },
    rotate: {
      ours: writes(
        (record) => registry.rotateSecret(ACCOUNT, record.client_id),
        (record) => registry.deleteRotatedSecret(ACCOUNT, record.client_id),
      ),
      baseline: writes(rawRotate, rawEndRotation),
    },
  };
}

/**
 * Runs each operation once on both sides and throws unless both did the
 * work they claim (found the client, authenticated, returned a full page),
 * so a broken store or baseline can never produce a flattering number.
 *
 * @example
 * await checkOperations(registry, raw, population, "SQLite at 1000"); // throws naming what is wrong
 */
export async function checkOperations(
  registry: OAuthClientRegistry,
  raw: RawStore,
  population: Population,
  label: string,
): Promise<void> {
  const fail = (what: string) => {
    throw new Error(`${label}: ${what}`);
  };
  const probe = population.readPool[0]!;
  if ((await registry.get(ACCOUNT, probe.client_id)).client_id !== probe.client_id) fail("get returned another client");
  if ((await raw.get(ACCOUNT, probe.client_id))?.client_name !== probe.client_name) fail("baseline get lost the document");
  if ((await registry.authenticate(probe.client_id, SECRET))?.matched !== "current") fail("authenticate refused the stored secret");
  const rawRecord = await raw.getById(probe.client_id);
  if (!rawRecord || !secretMatches(SECRET, rawRecord.secret_hash)) fail("baseline authenticate refused the stored secret");
  const last = await registry.list(ACCOUNT, { limit: PAGE, cursor: encodeCursor(population.lastPageAfter) });
  if (last.clients.length !== PAGE || last.next_cursor !== null) fail(`last page has ${last.clients.length} clients, next_cursor ${last.next_cursor}`);
  const rawLast = await raw.list(ACCOUNT, population.lastPageAfter, PAGE + 1);
  if (rawLast.length !== PAGE || rawLast[0]!.client_id !== last.clients[0]!.client_id) fail("baseline last page differs from ours");
  const first = await registry.list(ACCOUNT, { limit: PAGE });
  if (first.clients[0]!.client_id !== population.listed[0]!.client_id || first.next_cursor === null) fail("first page is not the account's first");
}
