/**
 * A Worker that runs the store conformance suite on its D1 binding `DB`,
 * inside workerd. scripts/runtimes.mjs bundles it (with `vitest` aliased to
 * ./harness.ts) and drives it through miniflare against a local D1: a GET
 * answers the results as JSON.
 *
 * Before the suite, the Worker checks the migrations: migrateD1 applies
 * migrations/d1 once, a second run applies nothing, two at once on an empty
 * database apply it once between them, and the list index exists.
 */
import { createD1Store, migrateD1, type D1DatabaseLike } from "../../adapters/d1.js";
import { runStoreConformanceSuite } from "../../src/testing/conformance.js";
import { describe, expect, it, runRegistered, type RunResult } from "./harness.js";

interface Env {
  /** The database the conformance suite runs on. */
  DB: D1DatabaseLike;
  /** An empty database for the concurrent-migration case. */
  FRESH: D1DatabaseLike;
}

/** The files of migrations/d1, in the order they apply. */
const D1_FILES = ["0001_create_oauth_clients.sql", "0002_create_oauth_clients_claims.sql"];

let registered = false;

function register(env: Env): void {
  if (registered) return;
  registered = true;
  describe("migrateD1 on a real D1", () => {
    it("applies migrations/d1 once, records them in d1_migrations, and is a no-op afterwards", async () => {
      const first = await migrateD1(env.DB);
      expect(first.applied).toStrictEqual(D1_FILES);
      expect((await migrateD1(env.DB)).applied).toStrictEqual([]);
      const names = await env.DB.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>();
      expect(names.results.map((row) => row.name)).toStrictEqual(D1_FILES);
      const index = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'oauth_clients_list_idx'").first<{ sql: string }>();
      expect(index?.sql).toMatch(/\(account_id, created_at, client_id\)/);
    });

    it("two migrateD1 at once on a fresh database apply each migration exactly once, and both succeed", async () => {
      const results = await Promise.all([migrateD1(env.FRESH), migrateD1(env.FRESH)]);
      expect(results.flatMap((result) => result.applied).sort()).toStrictEqual(D1_FILES);
      const count = await env.FRESH.prepare("SELECT count(*) AS n FROM d1_migrations").first<{ n: number }>();
      expect(count?.n).toBe(D1_FILES.length);
    });
  });
  runStoreConformanceSuite("D1 in workerd (miniflare's local D1)", async () => ({ store: createD1Store(env.DB) }));
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    register(env);
    const result: RunResult = await runRegistered();
    return Response.json(result);
  },
};
