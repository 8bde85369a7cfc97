/**
 * The store conformance suite: one set of vitest cases that every
 * {@link ClientStore} adapter must pass unchanged. Adapter authors run it
 * from their own test files; see docs/storage.md.
 *
 * Each case uses accounts and client ids of its own, so a factory may hand
 * out one shared store (cheaper for server databases) or a fresh store per
 * case.
 */
import { describe, expect, it } from "vitest";
import { NotFoundError, ValidationError } from "../model/errors.js";
import { createOAuthClientRegistry } from "../registry/registry.js";
import { generateClientId } from "../model/secrets.js";
import type { ClientStore, ListPosition, StoredClient } from "../model/store.js";
import { makeLargeStoredClient, makeStoredClient } from "./records.js";

export { makeLargeStoredClient, makeStoredClient } from "./records.js";

/** What a factory hands to each case: the store, and how to dispose of it afterwards. */
export interface StoreUnderTest {
  store: ClientStore;
  /** Called after the case, pass or fail. The suite never calls `store.close` itself. */
  cleanup?: () => Promise<void>;
}

/** Options of {@link runStoreConformanceSuite}. */
export interface StoreConformanceOptions {
  /**
   * Case ids to register as skipped, for a documented limitation of the
   * adapter. A misspelled id is a compile error in TypeScript and throws at
   * run time in JavaScript, so a typo cannot silently skip nothing.
   */
  skip?: readonly StoreConformanceCaseId[];
}

/** The id of one conformance case, e.g. `"cas-race"`; see {@link STORE_CONFORMANCE_CASES}. */
export type StoreConformanceCaseId = (typeof CASES)[number]["id"];

/** The `id`s of a tuple of cases, position by position (what `map` keeps but cannot type). */
type IdsOf<T extends readonly { id: string }[]> = { readonly [K in keyof T]: T[K] extends { id: infer Id } ? Id : never };

interface ConformanceCase {
  id: string;
  title: string;
  /** An optional capability the case tests: a store without it skips the case. */
  requires?: "claimOnce" | "listAccounts";
  run(store: ClientStore): Promise<void>;
}

/** The store's claimOnce; cases that call it declare `requires: "claimOnce"`, so it is there. */
function claimsOf(store: ClientStore): NonNullable<ClientStore["claimOnce"]> {
  const claimOnce = store.claimOnce;
  if (claimOnce === undefined) throw new Error("the store has no claimOnce");
  return (claim) => claimOnce.call(store, claim);
}

/** The store's listAccounts; cases that call it declare `requires: "listAccounts"`, so it is there. */
function accountsOf(store: ClientStore): NonNullable<ClientStore["listAccounts"]> {
  const listAccounts = store.listAccounts;
  if (listAccounts === undefined) throw new Error("the store has no listAccounts");
  return (query) => listAccounts.call(store, query);
}

/**
 * A prefix of account ids of its own per case. A shared store holds other
 * cases' accounts too; those sort either before the prefix or after every id
 * that starts with it, so paging from the prefix meets this case's accounts
 * first and together. Suffixes are fixed-length lowercase letters and
 * digits, on which every collation (PostgreSQL's included) agrees with code
 * point order.
 */
function newAccountPrefix(): string {
  return `acct_${generateClientId()}_`;
}

/** Pages through the accounts after `prefix` while they start with it, `limit` at a time. */
async function accountsUnder(store: ClientStore, prefix: string, limit: number): Promise<string[][]> {
  const listAccounts = accountsOf(store);
  const pages: string[][] = [];
  let after = prefix;
  for (;;) {
    const page = await listAccounts({ after, limit });
    expect(page.length).toBeLessThanOrEqual(limit);
    const ours = page.filter((id) => id.startsWith(prefix));
    // Ours come first and together: nothing of another case's between them.
    expect(page.slice(0, ours.length)).toEqual(ours);
    if (ours.length > 0) pages.push(ours);
    if (ours.length < page.length || page.length < limit) break;
    after = page[page.length - 1]!;
    if (pages.length > 1000) throw new Error("listAccounts never ran out of pages");
  }
  return pages;
}

/** A claim scope of its own per case, so a shared store's earlier keys never interfere. */
function newScope(): string {
  return `conformance:${generateClientId()}`;
}

const BASE_TIME = Date.UTC(2025, 0, 1);
/** The clock of the claims cases: a fixed "now", so expiry is deterministic on every store. */
const CLAIM_NOW = BASE_TIME;

/** An RFC 3339 timestamp `seconds` after a fixed origin. */
function at(seconds: number): string {
  return new Date(BASE_TIME + seconds * 1000).toISOString();
}

function newAccountId(): string {
  return `acct_${generateClientId()}`;
}

/**
 * Runs a mutation of a record a store handed out. A store may hand out
 * copies (the mutation succeeds on the copy) or frozen records (the
 * mutation throws a TypeError); either way stored state must not change.
 */
function attemptToMutate(mutation: () => unknown): void {
  try {
    mutation();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

function keyOf(record: StoredClient): ListPosition {
  return { created_at: record.created_at, client_id: record.client_id };
}

/** List order of the contract: created_at, then client_id, both ascending by code unit. */
function compareListOrder(a: ListPosition, b: ListPosition): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  if (a.client_id === b.client_id) return 0;
  return a.client_id < b.client_id ? -1 : 1;
}

function sortedForList(records: readonly StoredClient[]): StoredClient[] {
  return [...records].sort(compareListOrder);
}

/** Deterministic shuffle, so a failure reproduces with the same insertion order. */
function shuffled<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function insertAll(store: ClientStore, records: readonly StoredClient[]): Promise<void> {
  for (const record of records) expect(await store.insert(record)).toBe(true);
}

/** Reads every page of an account's list; `between` runs after each page. */
async function listAllPages(
  store: ClientStore,
  accountId: string,
  limit: number,
  between?: (page: StoredClient[], pageIndex: number) => Promise<void>,
): Promise<StoredClient[][]> {
  const pages: StoredClient[][] = [];
  let after: ListPosition | null = null;
  for (;;) {
    const page: StoredClient[] = await store.list(accountId, { limit, after });
    expect(page.length).toBeLessThanOrEqual(limit);
    if (page.length === 0) break;
    pages.push(page);
    after = keyOf(page[page.length - 1]!);
    if (between) await between(page, pages.length - 1);
    if (pages.length > 1000) throw new Error("list never ran out of pages");
  }
  return pages;
}

/** Asserts the store holds exactly `expected` under its id, through every read path. */
async function expectStored(store: ClientStore, expected: StoredClient): Promise<void> {
  expect(await store.get(expected.account_id, expected.client_id)).toStrictEqual(expected);
  expect(await store.getById(expected.client_id)).toStrictEqual(expected);
  const listed = await store.list(expected.account_id, { limit: 1000 });
  expect(listed.filter((r) => r.client_id === expected.client_id)).toStrictEqual([expected]);
}

/** A successor of `record` as the registry would write it: same key, version + 1. */
function nextVersion(record: StoredClient, changes: Partial<StoredClient> = {}): StoredClient {
  return { ...structuredClone(record), updated_at: at(10_000 + record.version), ...changes, version: record.version + 1 };
}

// `as const` keeps each id a literal type, from which the id union and the
// tuple below are derived; `satisfies` still checks every case's shape.
const CASES = [
  {
    id: "insert-and-read",
    title: "an inserted record reads back identically through get, getById and list",
    async run(store) {
      const record = makeStoredClient();
      expect(await store.insert(record)).toBe(true);
      await expectStored(store, record);
      expect(await store.list(record.account_id, { limit: 10 })).toStrictEqual([record]);
    },
  },
  {
    id: "update",
    title: "update replaces the whole record when the expected version matches",
    async run(store) {
      const v1 = makeStoredClient();
      await insertAll(store, [v1]);
      const v2 = nextVersion(v1, {
        client_name: "Renamed",
        redirect_uris: ["https://other.example.com/cb", "http://127.0.0.1:8080/cb"],
        logo_uri: "https://cdn.example.com/logo.png",
        client_uri: "https://other.example.com",
        client_uri_verification: { status: "pending", text: "verify=abc" },
      });
      expect(await store.update(v2, 1)).toBe(true);
      await expectStored(store, v2);
      const v3 = nextVersion(v2, { logo_uri: null, client_uri: null, client_uri_verification: null, scopes: [] });
      expect(await store.update(v3, 2)).toBe(true);
      await expectStored(store, v3);
    },
  },
  {
    id: "update-reorders-list",
    title: "an update that changes created_at moves the record to its new list position",
    async run(store) {
      const accountId = newAccountId();
      const [a, b, c] = [0, 1, 2].map((i) => makeStoredClient({ account_id: accountId, created_at: at(i) }));
      await insertAll(store, [a!, b!, c!]);
      const moved = nextVersion(a!, { created_at: at(5) });
      expect(await store.update(moved, a!.version)).toBe(true);
      const ids = (await store.list(accountId, { limit: 10 })).map((r) => r.client_id);
      expect(ids).toEqual([b!.client_id, c!.client_id, a!.client_id]);
      expect(await store.list(accountId, { limit: 10, after: keyOf(c!) })).toStrictEqual([moved]);
    },
  },
  {
    id: "not-found",
    title: "reads of a missing record answer null or [], and writes to it answer false without creating it",
    async run(store) {
      const ghost = makeStoredClient();
      expect(await store.get(ghost.account_id, ghost.client_id)).toBeNull();
      expect(await store.getById(ghost.client_id)).toBeNull();
      expect(await store.list(ghost.account_id, { limit: 10 })).toStrictEqual([]);
      expect(await store.update(nextVersion(ghost), ghost.version)).toBe(false);
      expect(await store.delete(ghost.account_id, ghost.client_id)).toBe(false);
      // A refused update must not have inserted anything (no upsert).
      expect(await store.getById(ghost.client_id)).toBeNull();
      expect(await store.list(ghost.account_id, { limit: 10 })).toStrictEqual([]);
    },
  },
  {
    id: "duplicate-insert",
    title: "inserting a taken client_id answers false and changes nothing, in any account",
    async run(store) {
      const original = makeStoredClient({ client_name: "Original" });
      await insertAll(store, [original]);
      const sameAccount = makeStoredClient({
        account_id: original.account_id,
        client_id: original.client_id,
        client_name: "Impostor",
        created_at: at(99),
      });
      expect(await store.insert(sameAccount)).toBe(false);
      const otherAccount = { ...sameAccount, account_id: newAccountId() };
      expect(await store.insert(otherAccount)).toBe(false);
      await expectStored(store, original);
      expect(await store.get(otherAccount.account_id, original.client_id)).toBeNull();
      expect(await store.list(otherAccount.account_id, { limit: 10 })).toStrictEqual([]);
    },
  },
  {
    id: "cas-stale-version",
    title: "update with a stale or future expected version answers false and changes nothing",
    async run(store) {
      const v1 = makeStoredClient();
      await insertAll(store, [v1]);
      const v2 = nextVersion(v1, { client_name: "First writer" });
      expect(await store.update(v2, 1)).toBe(true);
      const lateWriter = nextVersion(v1, { client_name: "Second writer, read version 1" });
      expect(await store.update(lateWriter, 1)).toBe(false);
      expect(await store.update(nextVersion(v2, { version: 9 }), 8)).toBe(false);
      await expectStored(store, v2);
    },
  },
  {
    id: "cas-wrong-account",
    title: "update naming another account answers false and changes nothing",
    async run(store) {
      const record = makeStoredClient();
      await insertAll(store, [record]);
      const hijack = nextVersion(record, { account_id: newAccountId(), client_name: "Hijacked" });
      expect(await store.update(hijack, record.version)).toBe(false);
      await expectStored(store, record);
      expect(await store.get(hijack.account_id, record.client_id)).toBeNull();
      expect(await store.list(hijack.account_id, { limit: 10 })).toStrictEqual([]);
    },
  },
  {
    id: "cas-race",
    title: "of concurrent updates from the same version exactly one wins",
    async run(store) {
      const v1 = makeStoredClient();
      await insertAll(store, [v1]);
      const contenders = Array.from({ length: 10 }, (_, i) => nextVersion(v1, { client_name: `Writer ${i}` }));
      const results = await Promise.all(contenders.map((c) => store.update(c, 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      await expectStored(store, contenders[results.indexOf(true)]!);
    },
  },
  {
    id: "tenant-isolation",
    title: "another account sees nothing of a record: get, list, update and delete",
    async run(store) {
      const mine = makeStoredClient();
      const theirs = makeStoredClient({ created_at: mine.created_at });
      await insertAll(store, [mine, theirs]);
      const other = theirs.account_id;
      expect(await store.get(other, mine.client_id)).toBeNull();
      expect(await store.list(other, { limit: 10 })).toStrictEqual([theirs]);
      expect(await store.list(mine.account_id, { limit: 10 })).toStrictEqual([mine]);
      expect(await store.update(nextVersion(mine, { account_id: other }), mine.version)).toBe(false);
      expect(await store.delete(other, mine.client_id)).toBe(false);
      await expectStored(store, mine);
      await expectStored(store, theirs);
    },
  },
  {
    id: "list-order",
    title: "list returns an account's records by created_at, then client_id, ascending",
    async run(store) {
      const accountId = newAccountId();
      // Few distinct timestamps, so client_id must break many ties.
      const records = Array.from({ length: 15 }, (_, i) =>
        makeStoredClient({ account_id: accountId, created_at: at(i % 3), client_name: `Client ${i}` }),
      );
      const strangers = Array.from({ length: 5 }, (_, i) => makeStoredClient({ created_at: at(i % 3) }));
      await insertAll(store, shuffled([...records, ...strangers], 7));
      expect(await store.list(accountId, { limit: 100 })).toStrictEqual(sortedForList(records));
      expect(await store.list(accountId, { limit: 4 })).toStrictEqual(sortedForList(records).slice(0, 4));
    },
  },
  {
    id: "list-pagination",
    title: "keyset pages cover every record once, in order, starting strictly after the position",
    async run(store) {
      const accountId = newAccountId();
      const records = Array.from({ length: 23 }, (_, i) =>
        makeStoredClient({ account_id: accountId, created_at: at(i % 5) }),
      );
      await insertAll(store, shuffled(records, 11));
      const expected = sortedForList(records);
      for (const limit of [1, 4, 23, 50]) {
        const pages = await listAllPages(store, accountId, limit);
        expect(pages.flat()).toStrictEqual(expected);
        expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      }
      // A position between two records (no record has it) starts at the next record.
      const between = { created_at: at(2), client_id: "" };
      const fromBetween = await store.list(accountId, { limit: 100, after: between });
      expect(fromBetween).toStrictEqual(expected.filter((r) => r.created_at >= at(2)));
      const afterLast = keyOf(expected[expected.length - 1]!);
      expect(await store.list(accountId, { limit: 10, after: afterLast })).toStrictEqual([]);
      expect(await store.list(accountId, { limit: 10, after: null })).toStrictEqual(expected.slice(0, 10));
    },
  },
  {
    id: "list-concurrent-inserts",
    title: "paging while records are inserted between pages returns every pre-existing record exactly once",
    async run(store) {
      const accountId = newAccountId();
      const existing = Array.from({ length: 30 }, (_, i) =>
        makeStoredClient({ account_id: accountId, created_at: at(10 + (i % 10)) }),
      );
      await insertAll(store, shuffled(existing, 3));
      const ahead: StoredClient[] = [];
      const behind: StoredClient[] = [];
      const pages = await listAllPages(store, accountId, 4, async (page, index) => {
        // Stop feeding the list eventually, or it would never end.
        if (index >= 10) return;
        const cursor = keyOf(page[page.length - 1]!);
        const fresh = [
          makeStoredClient({ account_id: accountId, created_at: at(index / 1000) }), // before everything
          makeStoredClient({ account_id: accountId, created_at: cursor.created_at }), // ties with the cursor
          makeStoredClient({ account_id: accountId, created_at: at(100 + index) }), // after everything
        ];
        await insertAll(store, fresh);
        for (const record of fresh) (compareListOrder(record, cursor) > 0 ? ahead : behind).push(record);
      });
      const seen = pages.flat();
      const seenIds = seen.map((r) => r.client_id);
      const timesSeen = (id: string) => seenIds.filter((seenId) => seenId === id).length;
      for (const record of existing) expect(timesSeen(record.client_id)).toBe(1);
      // The list moves forward only: what lands ahead of the cursor shows up
      // once, what lands behind it never does.
      for (const record of ahead) expect(timesSeen(record.client_id)).toBe(1);
      for (const record of behind) expect(timesSeen(record.client_id)).toBe(0);
      expect(seen).toHaveLength(existing.length + ahead.length);
      for (let i = 1; i < seen.length; i++) expect(compareListOrder(seen[i - 1]!, seen[i]!)).toBe(-1);
    },
  },
  {
    id: "list-after-deleted-cursor",
    title: "the next page still starts right after a cursor whose record was deleted",
    async run(store) {
      const accountId = newAccountId();
      const records = Array.from({ length: 9 }, (_, i) => makeStoredClient({ account_id: accountId, created_at: at(i % 3) }));
      await insertAll(store, records);
      const expected = sortedForList(records);
      const first = await store.list(accountId, { limit: 3 });
      const cursor = first[2]!;
      expect(await store.delete(accountId, cursor.client_id)).toBe(true);
      expect(await store.list(accountId, { limit: 3, after: keyOf(cursor) })).toStrictEqual(expected.slice(3, 6));
    },
  },
  {
    id: "round-trip-large",
    title: "a large record with every optional field set and mixed scripts round-trips exactly",
    async run(store) {
      const large = makeLargeStoredClient();
      expect(large.redirect_uris).toHaveLength(100);
      await insertAll(store, [large]);
      await expectStored(store, large);
      const changed = nextVersion(large, {
        client_name: "שלום 👋 — تحديث",
        redirect_uris: [...large.redirect_uris].reverse(),
        client_uri_verification: { status: "failed", text: "verify=🚫" },
      });
      expect(await store.update(changed, large.version)).toBe(true);
      await expectStored(store, changed);
    },
  },
  {
    id: "secret-hashes",
    title: "secret hashes and rotated_at round-trip, including null",
    async run(store) {
      const publicClient = makeStoredClient({ token_endpoint_auth_method: "none", secret_hash: null });
      const rotating = makeStoredClient({
        secret_hash: `sha256$${"1".repeat(64)}`,
        rotated_secret_hash: `scrypt$17$8$1$${"2".repeat(32)}$${"3".repeat(64)}`,
        rotated_at: at(42),
      });
      await insertAll(store, [publicClient, rotating]);
      await expectStored(store, publicClient);
      await expectStored(store, rotating);
      const retired = nextVersion(rotating, { rotated_secret_hash: null, rotated_at: null });
      expect(await store.update(retired, rotating.version)).toBe(true);
      await expectStored(store, retired);
      const rotatedAgain = nextVersion(retired, {
        secret_hash: `sha256$${"4".repeat(64)}`,
        rotated_secret_hash: retired.secret_hash,
        rotated_at: at(43),
      });
      expect(await store.update(rotatedAgain, retired.version)).toBe(true);
      await expectStored(store, rotatedAgain);
    },
  },
  {
    id: "delete",
    title: "a deleted record is gone from every read, a second delete answers false, neighbours stay",
    async run(store) {
      const accountId = newAccountId();
      const doomed = makeStoredClient({ account_id: accountId, created_at: at(1) });
      const neighbour = makeStoredClient({ account_id: accountId, created_at: at(2) });
      await insertAll(store, [doomed, neighbour]);
      expect(await store.delete(accountId, doomed.client_id)).toBe(true);
      expect(await store.get(accountId, doomed.client_id)).toBeNull();
      expect(await store.getById(doomed.client_id)).toBeNull();
      expect(await store.list(accountId, { limit: 10 })).toStrictEqual([neighbour]);
      expect(await store.delete(accountId, doomed.client_id)).toBe(false);
      expect(await store.update(nextVersion(doomed), doomed.version)).toBe(false);
      expect(await store.getById(doomed.client_id)).toBeNull();
      await expectStored(store, neighbour);
      // The id is free again after a delete.
      const reborn = makeStoredClient({ account_id: accountId, client_id: doomed.client_id, created_at: at(3) });
      expect(await store.insert(reborn)).toBe(true);
      await expectStored(store, reborn);
    },
  },
  {
    id: "delete-conditional",
    title: "a delete with an expected version removes the record only at that version, in one step",
    async run(store) {
      const accountId = newAccountId();
      const record = makeStoredClient({ account_id: accountId, created_at: at(1) });
      await insertAll(store, [record]);
      const next = nextVersion(record, { client_name: "Changed" });
      expect(await store.update(next, record.version)).toBe(true);
      // The version the caller read is stale now: nothing is deleted.
      expect(await store.delete(accountId, record.client_id, record.version)).toBe(false);
      await expectStored(store, next);
      // Another account's delete at the right version does nothing either.
      expect(await store.delete(newAccountId(), record.client_id, next.version)).toBe(false);
      await expectStored(store, next);
      expect(await store.delete(accountId, record.client_id, next.version)).toBe(true);
      expect(await store.getById(record.client_id)).toBeNull();
      expect(await store.delete(accountId, record.client_id, next.version)).toBe(false);
    },
  },
  {
    id: "returns-copies",
    title: "mutating records passed in or handed out never changes stored state (handed-out records may be frozen)",
    async run(store) {
      const original = makeLargeStoredClient();
      const passedIn = structuredClone(original);
      await insertAll(store, [passedIn]);
      passedIn.client_name = "mutated after insert";
      passedIn.redirect_uris.push("https://evil.example.com/");
      passedIn.client_uri_verification!.status = "failed";

      const viaGet = (await store.get(original.account_id, original.client_id))!;
      attemptToMutate(() => viaGet.scopes.push("mutated"));
      attemptToMutate(() => (viaGet.client_uri_verification!.text = "mutated"));
      const viaId = (await store.getById(original.client_id))!;
      attemptToMutate(() => (viaId.grant_types.length = 0));
      const viaList = await store.list(original.account_id, { limit: 10 });
      attemptToMutate(() => viaList[0]!.allowed_cors_origins.push("https://evil.example.com"));
      attemptToMutate(() => (viaList[0]!.version = 999));
      await expectStored(store, original);

      const next = nextVersion(original, { client_name: "Updated" });
      const nextPassedIn = structuredClone(next);
      expect(await store.update(nextPassedIn, original.version)).toBe(true);
      nextPassedIn.post_logout_redirect_uris.push("https://evil.example.com/");
      nextPassedIn.version = 1;
      await expectStored(store, next);
    },
  },
  {
    id: "hostile-identifiers",
    title: "ids and cursors with NUL, control characters or lone surrogates get the same typed answers on every store",
    async run(store) {
      const registry = createOAuthClientRegistry(store);
      const accountId = newAccountId();
      const created = await registry.create(accountId, {
        client_name: "Hostile ids",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: ["https://app.example.com/cb"],
        scopes: [],
        token_endpoint_auth_method: "client_secret_basic",
      });
      const hostile = ["a\u0000b", "\u0000", `${created.client_id}\u0000`, "tab\there", "bell\u0007", "del\u007f", "lone\ud800", "\udfffx"];
      for (const bad of hostile) {
        // Account ids: 400 with a pointer, before the store is asked.
        for (const call of [
          () => registry.list(bad),
          () => registry.get(bad, created.client_id),
          () => registry.create(bad, { client_name: "x" } as Parameters<typeof registry.create>[1]),
          () => registry.delete(bad, created.client_id),
        ]) {
          const error = await call().then(() => null, (e: unknown) => e);
          expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).issues.map((i) => i.path)).toContain("/account_id");
        }
        // Client ids: not found, like any id no client has.
        for (const call of [
          () => registry.get(accountId, bad),
          () => registry.update(accountId, bad, { client_name: "x" }),
          () => registry.delete(accountId, bad),
          () => registry.rotateSecret(accountId, bad),
          () => registry.deleteRotatedSecret(accountId, bad),
        ]) {
          await expect(call(), JSON.stringify(bad)).rejects.toBeInstanceOf(NotFoundError);
        }
        expect(await registry.findClient(bad)).toBeNull();
        expect(await registry.authenticate(bad, created.client_secret!)).toBeNull();
        expect(await registry.authenticate(created.client_id, bad)).toBeNull();
        // A cursor naming such a position was never issued.
        const forged = btoa(JSON.stringify([created.created_at, bad].map((v) => v))).replace(/=+$/, "");
        await expect(registry.list(accountId, { cursor: forged })).rejects.toBeInstanceOf(ValidationError);
      }
      // Well-formed non-ASCII ids reach the store and are simply absent.
      for (const odd of ["ünïcødé", "客户端", "emoji-\u{1F600}", "'; drop table x; --"]) {
        expect(await store.getById(odd)).toBeNull();
        expect(await store.get(odd, odd)).toBeNull();
        expect(await store.list(odd, { limit: 5 })).toEqual([]);
        expect(await store.delete(odd, odd)).toBe(false);
      }
      // Nothing above changed the stored client.
      expect(await registry.authenticate(created.client_id, created.client_secret!)).toMatchObject({ matched: "current" });
      expect((await registry.list(accountId)).clients.map((c) => c.client_id)).toEqual([created.client_id]);
    },
  },
  {
    id: "text-round-trip",
    title: "every string the registry accepts reads back identical, code unit for code unit; malformed text never reaches the store",
    async run(store) {
      const registry = createOAuthClientRegistry(store, { scopeCatalog: ["zone.read", "zone.dns.edit"] });
      const accountId = newAccountId();
      // Non-ASCII but well-formed names, several of which change under NFC or NFKC.
      const names = [
        "Ünïcødé 🚀 👩🏽‍💻 🏳️‍🌈 ❤️ 1️⃣ 🇯🇵 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀋",
        "e\u0301 \u00e9 \u212b \u00c5 A\u030a \u1112\u1161\u11ab 한 \ufb01 \u2460",
        "مرحبا بالعالم — שלום עולם (v2)",
        "नमस्ते ไทย 日本語 中文 ελληνικά кириллица",
        `"quoted" 'single' back\\slash %s \${x} <b>&amp;</b>`,
        "🚀".repeat(200),
      ];
      expect(names.filter((n) => n !== n.normalize("NFC")).length).toBeGreaterThanOrEqual(1);
      expect(names.filter((n) => n !== n.normalize("NFKC")).length).toBeGreaterThanOrEqual(2);
      const uris = {
        redirect_uris: [
          "https://xn--bcher-kva.example/caf%C3%A9/%F0%9F%9A%80?q=%E2%80%AE&x='%22",
          "com.example.app:/cb/e%CC%81",
          "http://127.0.0.1:8080/%E6%97%A5%E6%9C%AC",
        ],
        post_logout_redirect_uris: ["https://xn--r8jz45g.xn--zckzah/%D8%B3%D9%84%D8%A7%D9%85"],
        allowed_cors_origins: ["https://xn--bcher-kva.example", "http://localhost:3000"],
        client_uri: "https://xn--r8jz45g.xn--zckzah/about",
        logo_uri: "https://cdn.example.com/logo-%F0%9F%9A%80.png",
        policy_uri: "https://app.example.com/%E9%9A%B1%E7%A7%81",
        tos_uri: "https://app.example.com/terms?lang=%D7%A2%D7%91",
      };
      const created = await registry.create(accountId, {
        client_name: names[0]!,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        scopes: ["zone.read", "zone.dns.edit", "profile"],
        optional_scopes: ["zone.dns.edit"],
        token_endpoint_auth_method: "client_secret_basic",
        ...uris,
      });
      const { client_secret: _secret, ...client } = created;
      expect(client).toMatchObject({ client_name: names[0], ...uris });
      const textFields = [
        "client_name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "allowed_cors_origins",
        "client_uri",
        "logo_uri",
        "policy_uri",
        "tos_uri",
        "scopes",
        "optional_scopes",
      ] as const;
      /** Every read path returns exactly `expected`, and the store holds exactly its strings. */
      const expectReadsBack = async (expected: typeof client) => {
        expect(await registry.get(accountId, expected.client_id)).toStrictEqual(expected);
        expect(await registry.findClient(expected.client_id)).toStrictEqual(expected);
        expect((await registry.list(accountId)).clients).toStrictEqual([expected]);
        const stored = (await store.get(accountId, expected.client_id))!;
        expect(await store.getById(expected.client_id)).toStrictEqual(stored);
        expect(await store.list(accountId, { limit: 10 })).toStrictEqual([stored]);
        for (const key of textFields) expect(stored[key], key).toStrictEqual(expected[key]);
      };
      await expectReadsBack(client);
      let current = client;
      for (const name of names.slice(1)) {
        current = await registry.update(accountId, current.client_id, { client_name: name });
        // toBe compares code units: a store that normalized, re-encoded or truncated would fail here.
        expect(current.client_name).toBe(name);
        await expectReadsBack(current);
      }

      // Text that is not well-formed Unicode is refused with a pointer, on create and on update, and nothing is stored.
      const lone = "\ud83d";
      const valid = {
        client_name: "Valid",
        grant_types: ["authorization_code" as const],
        response_types: ["code" as const],
        redirect_uris: ["https://app.example.com/cb"],
        scopes: [],
        token_endpoint_auth_method: "none" as const,
      };
      const malformed: [Record<string, unknown>, string][] = [
        [{ client_name: `Rocket ${lone}` }, "/client_name"],
        [{ redirect_uris: ["https://app.example.com/cb", `https://app.example.com/${lone}`] }, "/redirect_uris/1"],
        [{ scopes: [`zone.read${lone}`] }, "/scopes/0"],
        [{ allowed_cors_origins: [`https://${lone}.example`] }, "/allowed_cors_origins/0"],
        [{ logo_uri: `https://cdn.example.com/${lone}.png` }, "/logo_uri"],
      ];
      for (const [patch, path] of malformed) {
        const onCreate = await registry.create(accountId, { ...valid, ...patch }).then(() => null, (e: unknown) => e);
        expect(onCreate, path).toBeInstanceOf(ValidationError);
        const refusal = [{ path, message: expect.stringMatching(/well-formed Unicode/) }];
        expect((onCreate as ValidationError).issues, path).toStrictEqual(refusal);
        const onUpdate = await registry.update(accountId, current.client_id, patch).then(() => null, (e: unknown) => e);
        expect((onUpdate as ValidationError).issues, path).toStrictEqual(refusal);
      }
      await expectReadsBack(current);
    },
  },
  {
    id: "self-registered-clients",
    title: "every field of self-registered clients round-trips (source, keys, expiry, last use, hidden token hash), and registration, metadata documents and purge work over the store",
    async run(store) {
      // Store level: a record with every self-registration field set, under a 255-character URL id.
      // Ids are unique per run, so the suite can run again over the same database.
      const unique = generateClientId();
      const urlPrefix = `https://app.example.com/${unique}/`;
      const urlId = `${urlPrefix}${"c".repeat(255 - urlPrefix.length)}`;
      const record = makeStoredClient({
        client_id: urlId,
        source: "cimd",
        token_endpoint_auth_method: "private_key_jwt",
        secret_hash: null,
        jwks: { keys: [{ kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "k1" }] },
        client_secret_expires_at: 1_900_000_000,
        last_used_at: at(5),
        secret_last_used_at: at(4),
        rotated_secret_last_used_at: at(3),
        registration_access_token_hash: `sha256$${"d".repeat(64)}`,
        rotated_secret_expires_at: at(6),
      });
      expect(await store.insert(record)).toBe(true);
      await expectStored(store, record);
      const other = makeStoredClient({ source: "dcr", jwks_uri: "https://app.example.com/jwks.json", account_id: record.account_id, created_at: at(1) });
      expect(await store.insert(other)).toBe(true);
      await expectStored(store, other);
      const changed = nextVersion(record, { last_used_at: at(7), jwks: null, jwks_uri: "https://app.example.com/keys", registration_access_token_hash: null });
      expect(await store.update(changed, record.version)).toBe(true);
      await expectStored(store, changed);

      // Registry level, over this store: registration with its token, a metadata document, filters and purge.
      let clock = BASE_TIME;
      const documentUrl = `https://mcp.example.com/${unique}/client.json`;
      const registry = createOAuthClientRegistry(store, {
        now: () => new Date(clock),
        clientIdMetadataDocuments: {
          accountId: record.account_id,
          fetchClientMetadata: async () => ({ client_id: documentUrl, client_name: "MCP client", redirect_uris: ["http://127.0.0.1:4000/cb"] }),
        },
      });
      const accountId = newAccountId();
      const registered = await registry.registerClient(accountId, {
        client_name: "Registered",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: ["https://app.example.com/cb"],
        scopes: [],
        token_endpoint_auth_method: "client_secret_post",
      });
      const id = registered.client.client_id;
      expect(await registry.readRegistration(id, registered.registration_access_token!)).toStrictEqual({ client: registered.client, account_id: accountId });
      const updated = await registry.updateRegistration(id, registered.registration_access_token!, {
        client_name: "Renamed",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: ["https://app.example.com/cb"],
        scopes: [],
        token_endpoint_auth_method: "client_secret_post",
      });
      expect(updated!.client).toMatchObject({ client_name: "Renamed", source: "dcr" });
      expect(await registry.readRegistration(id, registered.registration_access_token!)).toBeNull();
      clock += 1000;
      const auth = await registry.authenticate(id, registered.client_secret!);
      expect(auth!.client.last_used_at).toBe(new Date(clock).toISOString());
      expect((await registry.list(accountId, { neverUsed: false })).clients.map((c) => c.client_id)).toEqual([id]);

      const resolved = await registry.resolveClient(documentUrl);
      expect(resolved).toMatchObject({ client_id: documentUrl, source: "cimd", token_endpoint_auth_method: "none" });
      expect(await registry.resolveClient(documentUrl)).toStrictEqual(resolved);
      expect((await registry.list(record.account_id, { source: "cimd" })).clients.map((c) => c.client_id)).toContain(documentUrl);

      clock += 30 * 86_400_000;
      expect(await registry.purgeClients(accountId, { idleForMs: 86_400_000 })).toStrictEqual({ deleted: [id], next_cursor: null });
      expect(await store.getById(id)).toBeNull();
    },
  },
  {
    id: "claims-single-use",
    title: "claimOnce: a key is new once, then seen while it lives; keys and scopes are independent",
    requires: "claimOnce",
    async run(store) {
      const claim = claimsOf(store);
      const scope = newScope();
      const other = newScope();
      const base = { expiresAtMs: CLAIM_NOW + 60_000, nowMs: CLAIM_NOW };
      expect(await claim({ scope, key: "a", ...base })).toBe("new");
      expect(await claim({ scope, key: "a", ...base })).toBe("seen");
      expect(await claim({ scope, key: "a", ...base, nowMs: CLAIM_NOW + 59_999 })).toBe("seen");
      expect(await claim({ scope, key: "b", ...base })).toBe("new");
      expect(await claim({ scope: other, key: "a", ...base })).toBe("new");
      // Long keys, and keys that differ only in case or trailing space, are distinct.
      const long = "k".repeat(255);
      expect(await claim({ scope, key: long, ...base })).toBe("new");
      expect(await claim({ scope, key: long, ...base })).toBe("seen");
      expect(await claim({ scope, key: "A", ...base })).toBe("new");
      expect(await claim({ scope, key: "a ", ...base })).toBe("new");
      expect(await claim({ scope, key: "é", ...base })).toBe("new");
      expect(await claim({ scope, key: "e\u0301", ...base })).toBe("new");
    },
  },
  {
    id: "claims-expiry",
    title: "claimOnce: a key is new again once its expiry has passed, and an expired owner's keys free its budget",
    requires: "claimOnce",
    async run(store) {
      const claim = claimsOf(store);
      const scope = newScope();
      expect(await claim({ scope, key: "k", expiresAtMs: CLAIM_NOW + 1000, nowMs: CLAIM_NOW })).toBe("new");
      expect(await claim({ scope, key: "k", expiresAtMs: CLAIM_NOW + 2000, nowMs: CLAIM_NOW + 1000 })).toBe("new");
      expect(await claim({ scope, key: "k", expiresAtMs: CLAIM_NOW + 3000, nowMs: CLAIM_NOW + 1999 })).toBe("seen");
      const owned = { scope, owner: "client-1", maxPerOwner: 2, nowMs: CLAIM_NOW };
      expect(await claim({ ...owned, key: "o1", expiresAtMs: CLAIM_NOW + 1000 })).toBe("new");
      expect(await claim({ ...owned, key: "o2", expiresAtMs: CLAIM_NOW + 5000 })).toBe("new");
      expect(await claim({ ...owned, key: "o3", expiresAtMs: CLAIM_NOW + 5000 })).toBe("over_budget");
      expect(await claim({ ...owned, key: "o3", expiresAtMs: CLAIM_NOW + 5000, nowMs: CLAIM_NOW + 1000 })).toBe("new");
      expect(await claim({ ...owned, key: "o4", expiresAtMs: CLAIM_NOW + 6000, nowMs: CLAIM_NOW + 1000 })).toBe("over_budget");
      // Many expired keys: each is gone for the owner's count, whichever call cleaned it up.
      for (let i = 0; i < 40; i++) expect(await claim({ scope, key: `bulk${i}`, owner: "client-2", maxPerOwner: 40, expiresAtMs: CLAIM_NOW + 100, nowMs: CLAIM_NOW })).toBe("new");
      for (let i = 0; i < 40; i++) expect(await claim({ scope, key: `later${i}`, owner: "client-2", maxPerOwner: 40, expiresAtMs: CLAIM_NOW + 9000, nowMs: CLAIM_NOW + 100 })).toBe("new");
      expect(await claim({ scope, key: "bulk0", expiresAtMs: CLAIM_NOW + 9000, nowMs: CLAIM_NOW + 100 })).toBe("new");
    },
  },
  {
    id: "claims-owner-budget",
    title: "claimOnce: an owner at its budget is refused alone, its refused key is not recorded, a replay stays seen",
    requires: "claimOnce",
    async run(store) {
      const claim = claimsOf(store);
      const scope = newScope();
      const at = { expiresAtMs: CLAIM_NOW + 60_000, nowMs: CLAIM_NOW, maxPerOwner: 3 };
      for (const key of ["a1", "a2", "a3"]) expect(await claim({ scope, key, owner: "a", ...at })).toBe("new");
      expect(await claim({ scope, key: "a4", owner: "a", ...at })).toBe("over_budget");
      // Refused, so not recorded: still over budget, never "seen".
      expect(await claim({ scope, key: "a4", owner: "a", ...at })).toBe("over_budget");
      expect(await claim({ scope, key: "a1", owner: "a", ...at })).toBe("seen");
      // Other owners, and the same owner in another scope, are untouched.
      expect(await claim({ scope, key: "b1", owner: "b", ...at })).toBe("new");
      expect(await claim({ scope: newScope(), key: "a5", owner: "a", ...at })).toBe("new");
      // No owner, no budget.
      for (let i = 0; i < 5; i++) expect(await claim({ scope, key: `free${i}`, ...at, maxPerOwner: undefined })).toBe("new");
    },
  },
  {
    id: "claims-concurrent",
    title: "claimOnce: of ten concurrent claims of one key exactly one is new; concurrent claims never pass an owner's budget",
    requires: "claimOnce",
    async run(store) {
      const claim = claimsOf(store);
      const scope = newScope();
      const at = { expiresAtMs: CLAIM_NOW + 60_000, nowMs: CLAIM_NOW };
      const same = await Promise.all(Array.from({ length: 10 }, () => claim({ scope, key: "one", ...at })));
      expect(same.filter((r) => r === "new")).toHaveLength(1);
      expect(same.filter((r) => r === "seen")).toHaveLength(9);
      const budget = await Promise.all(Array.from({ length: 10 }, (_, i) => claim({ scope, key: `k${i}`, owner: "o", maxPerOwner: 4, ...at })));
      expect(budget.filter((r) => r === "new").length).toBeLessThanOrEqual(4);
      expect(budget.every((r) => r === "new" || r === "over_budget")).toBe(true);
    },
  },
  {
    id: "claims-malformed",
    title: "claimOnce: a malformed claim (empty key, overlong owner, budget without owner) is a TypeError and records nothing",
    requires: "claimOnce",
    async run(store) {
      const claim = claimsOf(store);
      const scope = newScope();
      const at = { expiresAtMs: CLAIM_NOW + 60_000, nowMs: CLAIM_NOW };
      await expect(claim({ scope, key: "", ...at })).rejects.toThrow(TypeError);
      await expect(claim({ scope, key: "k", owner: "o".repeat(256), ...at })).rejects.toThrow(TypeError);
      await expect(claim({ scope, key: "k", maxPerOwner: 1, ...at })).rejects.toThrow(TypeError);
      await expect(claim({ scope: "bad scope", key: "k", ...at })).rejects.toThrow(TypeError);
      expect(await claim({ scope, key: "k", ...at })).toBe("new");
    },
  },
  {
    id: "accounts-listing",
    title: "listAccounts: every account holding a client, once, ascending, at most limit, strictly after `after`",
    requires: "listAccounts",
    async run(store) {
      const listAccounts = accountsOf(store);
      const prefix = newAccountPrefix();
      const ids = ["b0", "a1", "c2", "a0"].map((suffix) => `${prefix}${suffix}`);
      // Several clients in one account; inserted out of order.
      await insertAll(store, [...ids, ids[1]!, ids[1]!].map((account_id, i) => makeStoredClient({ account_id, created_at: at(10 - i) })));
      const sorted = [...ids].sort();
      expect(await listAccounts({ after: prefix, limit: 10 })).toEqual(expect.arrayContaining(sorted));
      expect((await listAccounts({ after: prefix, limit: 10 })).slice(0, 4)).toEqual(sorted);
      expect(await listAccounts({ after: prefix, limit: 2 })).toEqual(sorted.slice(0, 2));
      expect(await listAccounts({ after: sorted[0]!, limit: 1 })).toEqual([sorted[1]]);
      // `after` need not be an account: the page starts at the next one.
      expect(await listAccounts({ after: `${prefix}a0z`, limit: 2 })).toEqual([`${prefix}a1`, `${prefix}b0`]);
      // From the start, pages ascend without repeats.
      const first = await listAccounts({ limit: 50 });
      expect(first.length).toBeGreaterThan(0);
      expect(new Set(first).size).toBe(first.length);
      const next = await listAccounts({ after: first[first.length - 1]!, limit: 50 });
      for (const id of next) expect(first).not.toContain(id);
    },
  },
  {
    id: "accounts-paging",
    title: "listAccounts: paging with each page's last id as `after` covers every account exactly once, in order",
    requires: "listAccounts",
    async run(store) {
      const prefix = newAccountPrefix();
      const suffixes = Array.from({ length: 23 }, (_, i) => `${String.fromCharCode(97 + (i % 5))}${String(i).padStart(2, "0")}`);
      const ids = suffixes.map((suffix) => `${prefix}${suffix}`);
      const records = shuffled(ids, 11).flatMap((account_id, i) =>
        Array.from({ length: 1 + (i % 3) }, (_, j) => makeStoredClient({ account_id, created_at: at(i * 3 + j) })),
      );
      await insertAll(store, shuffled(records, 5));
      const sorted = [...ids].sort();
      for (const limit of [1, 4, 23, 100]) {
        const pages = await accountsUnder(store, prefix, limit);
        expect(pages.flat()).toEqual(sorted);
        for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
      }
    },
  },
  {
    id: "accounts-deleted",
    title: "listAccounts: an account whose last client was deleted disappears; updates leave the list alone",
    requires: "listAccounts",
    async run(store) {
      const prefix = newAccountPrefix();
      const [keep, drop] = [`${prefix}a`, `${prefix}b`];
      const first = makeStoredClient({ account_id: drop, created_at: at(1) });
      const second = makeStoredClient({ account_id: drop, created_at: at(2) });
      const kept = makeStoredClient({ account_id: keep, created_at: at(3) });
      await insertAll(store, [first, second, kept]);
      expect((await accountsUnder(store, prefix, 10)).flat()).toEqual([keep, drop]);
      expect(await store.update(nextVersion(first, { client_name: "Renamed" }), first.version)).toBe(true);
      expect((await accountsUnder(store, prefix, 10)).flat()).toEqual([keep, drop]);
      expect(await store.delete(drop, first.client_id)).toBe(true);
      expect((await accountsUnder(store, prefix, 10)).flat()).toEqual([keep, drop]);
      expect(await store.delete(drop, second.client_id)).toBe(true);
      expect((await accountsUnder(store, prefix, 10)).flat()).toEqual([keep]);
      expect(await store.delete(keep, kept.client_id)).toBe(true);
      expect((await accountsUnder(store, prefix, 10)).flat()).toEqual([]);
      // A client inserted again brings its account back.
      expect(await store.insert(makeStoredClient({ account_id: drop, created_at: at(4) }))).toBe(true);
      expect((await accountsUnder(store, prefix, 10)).flat()).toEqual([drop]);
    },
  },
  {
    id: "accounts-malformed",
    title: "listAccounts: a limit that is not an integer from 1 to 1000, or an `after` that is not a string, is a TypeError",
    requires: "listAccounts",
    async run(store) {
      const listAccounts = accountsOf(store);
      for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1001]) {
        await expect(listAccounts({ limit })).rejects.toThrow(TypeError);
      }
      await expect(listAccounts({ limit: "10" as unknown as number })).rejects.toThrow(TypeError);
      await expect(listAccounts({ limit: 10, after: 5 as unknown as string })).rejects.toThrow(TypeError);
      expect(Array.isArray(await listAccounts({ limit: 1000 }))).toBe(true);
    },
  },
] as const satisfies readonly ConformanceCase[];

/**
 * Ids of every case, in the order they run, for {@link StoreConformanceOptions.skip}.
 *
 * @example
 * ```ts
 * import { STORE_CONFORMANCE_CASES } from "oauth-client-registry/testing";
 *
 * STORE_CONFORMANCE_CASES[0]; // "insert-and-read"
 * ```
 */
export const STORE_CONFORMANCE_CASES = CASES.map((c) => c.id) as readonly string[] as IdsOf<typeof CASES>;

/**
 * Registers the conformance cases for one adapter as a vitest `describe`
 * block. `factory` runs once per case; the optional `cleanup` it returns
 * runs after that case.
 *
 * @example
 * ```ts
 * import type { ClientStore } from "oauth-client-registry";
 * import { runStoreConformanceSuite } from "oauth-client-registry/testing";
 *
 * declare function createMyStore(options: { url: string }): Promise<ClientStore & { close(): Promise<void> }>; // your adapter
 *
 * runStoreConformanceSuite("my store", async () => {
 *   const store = await createMyStore({ url: process.env.MY_DB_URL! });
 *   return { store, cleanup: () => store.close() };
 * });
 * ```
 */
export function runStoreConformanceSuite(
  name: string,
  factory: () => Promise<StoreUnderTest>,
  options: StoreConformanceOptions = {},
): void {
  // Checked again at run time: JavaScript callers get no compile error.
  const known: readonly string[] = STORE_CONFORMANCE_CASES;
  const skip = new Set<string>(options.skip ?? []);
  const unknown = [...skip].filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new Error(
      `runStoreConformanceSuite: unknown case id(s) in skip: ${unknown.join(", ")}. ` +
        `Known ids: ${STORE_CONFORMANCE_CASES.join(", ")}`,
    );
  }
  describe(`ClientStore conformance: ${name}`, () => {
    for (const testCase of CASES) {
      const register = skip.has(testCase.id) ? it.skip : it;
      register(`${testCase.id}: ${testCase.title}`, async (context) => {
        const { store, cleanup } = await factory();
        const requires: ConformanceCase["requires"] = "requires" in testCase ? testCase.requires : undefined;
        try {
          // A store without the optional capability is not wrong: the case is reported skipped.
          if (requires !== undefined && typeof store[requires] !== "function") {
            context.skip(`the store has no ${requires} (an optional capability)`);
            return;
          }
          await testCase.run(store);
        } finally {
          await cleanup?.();
        }
      });
    }
  });
}
