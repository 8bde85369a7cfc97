/**
 * The v4 API served by the runtime's own HTTP server over its own SQLite:
 * `Bun.serve` over a `bun:sqlite` `Database` under Bun, `Deno.serve` over a
 * `node:sqlite` `DatabaseSync` under Deno. scripts/runtimes.mjs bundles it,
 * starts it with `DB_FILE` and `API_TOKEN`, reads the `listening on <url>`
 * line, drives it with the cloudflare SDK from Node, and stops it with SIGTERM.
 */
import { createSqliteStore, type SqliteDatabase } from "../../adapters/sqlite.js";
import { bearerTokenAuthorize, createFetchHandler } from "../../src/http/index.js";
import { createOAuthClientRegistry } from "../../src/index.js";

type FetchHandler = (request: Request) => Promise<Response>;

/** The parts of Bun's and Deno's globals used here, written out (no runtime type packages). */
interface BunGlobal {
  serve(options: { hostname: string; port: number; fetch: FetchHandler }): { port: number; stop(): void };
}
interface DenoGlobal {
  serve(options: { hostname: string; port: number; onListen(address: { port: number }): void }, handler: FetchHandler): unknown;
}
const { Bun, Deno } = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal };

const file = process.env.DB_FILE;
const token = process.env.API_TOKEN;
if (!file || !token) throw new Error("DB_FILE and API_TOKEN are required");

// Variable specifiers: each exists on one runtime only, and the bundler must leave them alone.
const driver: string = Bun ? "bun:sqlite" : "node:sqlite";
const module = (await import(driver)) as Record<string, new (filename: string) => SqliteDatabase>;
const db = new (Bun ? module.Database! : module.DatabaseSync!)(file);
const store = createSqliteStore(db);
const handler = createFetchHandler(createOAuthClientRegistry(store), { authorize: bearerTokenAuthorize(token) });

const announce = (port: number) => console.log(`listening on http://127.0.0.1:${port}/client/v4 (${store.driver})`);
if (Bun) {
  announce(Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler }).port);
} else if (Deno) {
  Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => announce(port) }, handler);
} else {
  throw new Error("run this under Bun or Deno");
}
