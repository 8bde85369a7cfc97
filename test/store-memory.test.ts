import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createSqliteStore } from "../adapters/sqlite.js";
import fc from "fast-check";
import { compareListOrder, OrderedIndex } from "../adapters/ordered-index.js";
import type { ListPosition, StoredClient } from "../src/model/store.js";
import { makeStoredClient, runStoreConformanceSuite, STORE_CONFORMANCE_CASES } from "../src/testing/conformance.js";

runStoreConformanceSuite("memory", async () => ({ store: createMemoryStore() }));

describe("listAccounts order: code point, on the memory store as on SQLite", () => {
  it("puts characters above U+FFFF after U+E000–U+FFFF (UTF-16 code units would not), keeping pages in that order", async () => {
    // In code point order; in UTF-16 code unit order the astral ones would sort before U+E000.
    const ids = ["a~", "a\u00e9", "a\ue000", "a\ufffd", "a\u{1f600}", "a\u{1f600}b", "b"];
    const memory = createMemoryStore();
    const sqlite = createSqliteStore(":memory:");
    try {
      for (const store of [memory, sqlite]) {
        for (const account_id of [...ids].reverse()) expect(await store.insert(makeStoredClient({ account_id }))).toBe(true);
        expect(await store.listAccounts!({ limit: 100 })).toEqual(ids);
        const paged: string[] = [];
        for (let after: string | undefined; ; ) {
          const page = await store.listAccounts!(after === undefined ? { limit: 2 } : { after, limit: 2 });
          if (page.length === 0) break;
          paged.push(...page);
          after = page.at(-1);
        }
        expect(paged).toEqual(ids);
        expect(await store.listAccounts!({ after: "a\uf000", limit: 1 })).toEqual(["a\ufffd"]);
      }
    } finally {
      await sqlite.close();
    }
  });
});

describe("the conformance suite on a store without the optional capabilities", () => {
  const { claimOnce: _claims, listAccounts: _accounts, ...plain } = createMemoryStore();
  runStoreConformanceSuite("memory without claimOnce and listAccounts (their cases skip)", async () => ({ store: plain }));
});

describe("conformance suite options", () => {
  it("refuses to skip a case id it does not know, naming the known ids", () => {
    // @ts-expect-error: a misspelled id is a compile error; JavaScript callers get this run-time error
    expect(() => runStoreConformanceSuite("typo", async () => ({ store: createMemoryStore() }), { skip: ["list-ordr"] }))
      .toThrow(/unknown case id\(s\) in skip: list-ordr\. Known ids: insert-and-read/);
  });

  it("exposes every case id, each unique", () => {
    expect(STORE_CONFORMANCE_CASES.length).toBeGreaterThanOrEqual(15);
    expect(new Set(STORE_CONFORMANCE_CASES).size).toBe(STORE_CONFORMANCE_CASES.length);
  });
});

describe("memory store: frozen records and the ordered index", () => {
  const seconds = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000).toISOString();

  it("hands out stored records frozen: a mutation throws and the stored record is unchanged", async () => {
    const store = createMemoryStore();
    const record = makeStoredClient({ client_uri_verification: { status: "pending", text: "t" } });
    await store.insert(record);
    const got = (await store.get(record.account_id, record.client_id))!;
    expect(() => got.redirect_uris.push("https://evil.example.com/")).toThrow(TypeError);
    expect(() => (got.client_uri_verification!.status = "verified")).toThrow(TypeError);
    expect(() => Object.assign(got, { client_name: "changed" })).toThrow(TypeError);
    expect(await store.getById(record.client_id)).toStrictEqual(record);
  });

  it("stores keys it does not know, and keeps JSON data as the SQL stores do", async () => {
    const store = createMemoryStore();
    const stamped = new Date(0);
    const futureField: unknown = JSON.parse('{"nested":["a"],"__proto__":"kept as a key"}');
    const record = { ...makeStoredClient(), future_field: futureField, stamped } as StoredClient;
    await store.insert(record);
    const got = (await store.getById(record.client_id)) as unknown as Record<string, unknown>;
    expect(got.future_field).toStrictEqual(futureField);
    expect(Object.keys(got.future_field as object)).toEqual(["nested", "__proto__"]);
    expect(Object.getPrototypeOf(got.future_field)).toBe(Object.prototype);
    // A Date reads back as its JSON text, on this store as on the SQL stores.
    expect(got.stamped).toBe(stamped.toISOString());
    stamped.setTime(1);
    expect(((await store.getById(record.client_id)) as unknown as Record<string, unknown>).stamped).toBe(new Date(0).toISOString());
  });

  it("keeps list order and pages correctly through any sequence of inserts, updates and deletes", async () => {
    const key = fc.record({ second: fc.integer({ min: 0, max: 40 }), id: fc.integer({ min: 0, max: 400 }) });
    const operation = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("insert" as const), key }), weight: 5 },
      { arbitrary: fc.record({ kind: fc.constant("delete" as const), key }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant("move" as const), key, second: fc.integer({ min: 0, max: 40 }) }), weight: 2 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 200, maxLength: 1500 }), fc.integer({ min: 1, max: 90 }), async (operations, pageSize) => {
        const store = createMemoryStore();
        const model = new Map<string, StoredClient>();
        for (const op of operations) {
          const clientId = `c${String(op.key.id).padStart(4, "0")}`;
          const current = model.get(clientId);
          if (op.kind === "insert") {
            const record = makeStoredClient({ account_id: "acct", client_id: clientId, created_at: seconds(op.key.second) });
            expect(await store.insert(record)).toBe(current === undefined);
            if (!current) model.set(clientId, record);
          } else if (op.kind === "delete") {
            expect(await store.delete("acct", clientId)).toBe(current !== undefined);
            model.delete(clientId);
          } else if (current) {
            const moved = { ...current, created_at: seconds(op.second), version: current.version + 1 };
            expect(await store.update(moved, current.version)).toBe(true);
            model.set(clientId, moved);
          }
        }
        const expected = [...model.values()].sort(compareListOrder).map((r) => r.client_id);
        const listed: string[] = [];
        for (let after: StoredClient | undefined; ; ) {
          const page = await store.list("acct", { limit: pageSize, after });
          listed.push(...page.map((r) => r.client_id));
          if (page.length < pageSize) break;
          after = page.at(-1);
        }
        expect(listed).toEqual(expected);
        // A page may also start after a position that is not stored.
        const probe = { created_at: seconds(20), client_id: "c0200" };
        const tail = (await store.list("acct", { limit: 1000, after: probe })).map((r) => r.client_id);
        expect(tail).toEqual([...model.values()].filter((r) => compareListOrder(r, probe) > 0).sort(compareListOrder).map((r) => r.client_id));
      }),
      { numRuns: 10 },
    );
  });

  it("the index stays ordered through splits and merges several levels deep", () => {
    // Thousands of entries give a tree three levels deep; deleting most of
    // them again forces borrowing and merging at every level.
    const position = (n: number) => ({ created_at: seconds(n % 97), client_id: `c${String(n).padStart(5, "0")}` });
    for (const [seed, size] of [[1, 3000], [2, 6000], [3, 9000]] as const) {
        // A fixed linear congruential sequence: reproducible, and far cheaper than drawing thousands of samples.
        let state = seed;
        const random = Array.from({ length: size * 2 }, () => (state = (state * 1103515245 + 12345) % 2 ** 31) % 20001);
        const index = new OrderedIndex<ListPosition>();
        const model = new Map<string, ListPosition>();
        for (const n of random.slice(0, size)) {
          const p = position(n);
          if (model.has(p.client_id)) continue;
          index.insert(p);
          model.set(p.client_id, p);
        }
        const ids = (positions: ListPosition[]) => positions.map((p) => p.client_id).join(" ");
        const check = () => {
          const sorted = [...model.values()].sort(compareListOrder);
          expect(index.size).toBe(sorted.length);
          expect(ids(index.page(null, Infinity))).toBe(ids(sorted));
          for (const at of [0, 1, sorted.length >> 1, sorted.length - 1].filter((i) => i >= 0 && i < sorted.length)) {
            expect(ids(index.page(sorted[at], 70))).toBe(ids(sorted.slice(at + 1, at + 71)));
          }
        };
        check();
        // Plain comparisons in the loops: an expect per step would dominate the test's time.
        let wrongAnswers = 0;
        for (const n of random.slice(size)) {
          const p = position(n);
          if (index.delete(p) !== model.delete(p.client_id)) wrongAnswers++;
        }
        check();
        for (const p of [...model.values()]) {
          if (!index.delete(p)) wrongAnswers++;
          model.delete(p.client_id);
          if (model.size % 1000 === 0) check();
        }
        expect(wrongAnswers).toBe(0);
        expect(index.page(null, 10)).toEqual([]);
    }
  });
});
