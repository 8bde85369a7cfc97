/**
 * Public types are as precise as the values they describe: a misspelled
 * status or case id is a compile error for the caller (checked by
 * `npm run typecheck`; the run-time assertions only keep vitest honest).
 */
import Database from "better-sqlite3";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { BetterSqlite3Database, SqliteDatabase } from "../adapters/sqlite.js";
import type { ClientUriVerification, RegistryEvent, ScopeRules } from "../src/index.js";
import { STORE_CONFORMANCE_CASES, type StoreConformanceCaseId, type StoreConformanceOptions } from "../src/testing/conformance.js";

describe("precise public types", () => {
  it("client.uri_verification_changed carries a verification status, not any string", () => {
    type Changed = Extract<RegistryEvent, { type: "client.uri_verification_changed" }>;
    expectTypeOf<Changed["status"]>().toEqualTypeOf<ClientUriVerification["status"]>();
    expectTypeOf<"verified">().toExtend<Changed["status"]>();
    expectTypeOf<"verifed">().not.toExtend<Changed["status"]>();
  });

  it("ScopeRules, the options normalizeScopes takes, is exported from the main entry", () => {
    const rules: ScopeRules = { catalog: ["zone.read"], identityScopes: ["profile"] };
    expectTypeOf(rules.identityScopes).toEqualTypeOf<readonly string[]>();
  });

  it("conformance case ids are a literal union, and skip takes only those", () => {
    expectTypeOf<"cas-race">().toExtend<StoreConformanceCaseId>();
    expectTypeOf<"cas-rase">().not.toExtend<StoreConformanceCaseId>();
    expectTypeOf<StoreConformanceOptions["skip"]>().toEqualTypeOf<readonly StoreConformanceCaseId[] | undefined>();
    expectTypeOf(STORE_CONFORMANCE_CASES[0]).toEqualTypeOf<"insert-and-read">();
    expect(STORE_CONFORMANCE_CASES[0]).toBe("insert-and-read");
  });

  it("the SQLite adapter takes a structural database type that a better-sqlite3 Database fits", () => {
    const db = new Database(":memory:");
    expectTypeOf(db).toExtend<SqliteDatabase>();
    const adopted: BetterSqlite3Database = db;
    expect(adopted.open).toBe(true);
    db.close();
  });
});
