import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { runStoreConformanceSuite, STORE_CONFORMANCE_CASES } from "../src/testing/conformance.js";

runStoreConformanceSuite("memory", async () => ({ store: createMemoryStore() }));

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
