import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { runStoreConformanceSuite, STORE_CONFORMANCE_CASES } from "../src/testing/conformance.js";
import {
  expectConcurrentUpdatesAllSurvive,
  expectNoLostIncrementsWithIfMatch,
  expectExactlyOneRotationWins,
  twoRegistries,
} from "./helpers/storage-scenarios.js";

runStoreConformanceSuite("memory", async () => ({ store: createMemoryStore() }));

describe("conformance suite options", () => {
  it("refuses to skip a case id it does not know, naming the known ids", () => {
    expect(() => runStoreConformanceSuite("typo", async () => ({ store: createMemoryStore() }), { skip: ["list-ordr"] }))
      .toThrow(/unknown case id\(s\) in skip: list-ordr\. Known ids: insert-and-read/);
  });

  it("exposes every case id, each unique", () => {
    expect(STORE_CONFORMANCE_CASES.length).toBeGreaterThanOrEqual(15);
    expect(new Set(STORE_CONFORMANCE_CASES).size).toBe(STORE_CONFORMANCE_CASES.length);
  });
});

describe("memory store under two registries", () => {
  it("keeps every one of 20 concurrent updates", async () => {
    const store = createMemoryStore();
    await expectConcurrentUpdatesAllSurvive(twoRegistries(store, store), (a, c) => store.get(a, c));
  });

  it("GET-then-PATCH with If-Match from sixteen workers loses no acknowledged increment", async () => {
    const store = createMemoryStore();
    await expectNoLostIncrementsWithIfMatch(twoRegistries(store, store));
  });

  it("lets exactly one of 10 concurrent rotations win", async () => {
    const store = createMemoryStore();
    await expectExactlyOneRotationWins(twoRegistries(store, store));
  });
});
