/**
 * A Worker for the wrangler interplay check of scripts/runtimes.mjs: its D1
 * binding was migrated by `wrangler d1 migrations apply` from the shipped
 * migrations/d1 files, so migrateD1 must find nothing to apply, and the
 * store must work on the schema wrangler made.
 */
import { createD1Store, migrateD1, type D1DatabaseLike } from "../../adapters/d1.js";
import { makeStoredClient } from "../../src/testing/records.js";

/** JSON with object keys sorted, so that equal records compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)))
      : item,
  );
}

export default {
  async fetch(_request: Request, env: { DB: D1DatabaseLike }): Promise<Response> {
    const { applied } = await migrateD1(env.DB);
    const store = createD1Store(env.DB);
    const record = makeStoredClient();
    const inserted = await store.insert(record);
    const readBack = canonical(await store.getById(record.client_id)) === canonical(record);
    return Response.json({ applied, inserted, readBack });
  },
};
