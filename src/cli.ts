#!/usr/bin/env node
/**
 * The `oauth-client-registry` command. `serve` runs the HTTP API on a local
 * port over embedded SQLite (no set-up), or over PostgreSQL when a database
 * URL is given, guarded by a single bearer token.
 */
import { accessSync, constants as fsConstants, existsSync, realpathSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bearerTokenAuthorize } from "./http/authorizers.js";
import { createFetchHandler } from "./http/handler.js";
import { createNodeRequestListener, type NodeRequestListener } from "./http/node.js";
import { rawRequestPath } from "./http/path.js";
import { createOAuthClientRegistry } from "./registry.js";
import { generateSecret } from "./secrets.js";
import type { ClientStore } from "./store.js";

const USAGE = `Usage: oauth-client-registry serve [options]

Serves the OAuth Clients HTTP API (Cloudflare v4 compatible) under /client/v4.

Options:
  --host HOST            interface to listen on (default 127.0.0.1)
  --port PORT            port to listen on, 0 for any free one (default 8787)
  --db FILE              SQLite database file (default ./oauth-clients.sqlite)
  --database-url URL     PostgreSQL URL (postgres://…); overrides --db; default $DATABASE_URL
  --scope-catalog FILE   JSON list of the API scopes clients may request
  --max-connections N    connections open at once; more are closed on accept (default 512)
  --headers-timeout-ms MS
                         time to receive a request's headers, also the longest a new
                         connection may stay silent; then 408 (default 10000)
  --request-timeout-ms MS
                         time to receive a whole request, body included; then 408
                         (default 30000; at least the headers timeout)
  --keep-alive-timeout-ms MS
                         idle time before a kept-alive connection is closed (default 5000)
  -h, --help             show this help

Environment:
  OAUTH_REGISTRY_API_TOKEN   bearer token every request must carry;
                             generated and printed once when unset
  DATABASE_URL               PostgreSQL URL, used when neither --db nor --database-url is given
`;

/** Options of the `serve` command after parsing. */
export interface ServeOptions {
  host: string;
  port: number;
  /** SQLite file, used when `databaseUrl` is null. */
  db: string;
  databaseUrl: string | null;
  scopeCatalog: string | null;
  /** Open connections at once; further ones are closed as soon as they are accepted. Default 512. */
  maxConnections?: number;
  /** Time allowed to receive a request's headers (and the longest a new connection may stay silent). Default 10 000 ms. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request, body included; then 408 and the connection closes. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Idle time after a response before a kept-alive connection closes. Default 5 000 ms. */
  keepAliveTimeoutMs?: number;
}

/** Connection limits of `serve`, each settable by a flag of the same name. */
export type ServerLimits = Required<Pick<ServeOptions, "maxConnections" | "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs">>;

/**
 * Defaults of {@link ServerLimits}: far below Node's own (unlimited
 * connections, 60 s for headers, 300 s per request), so silent or trickling
 * clients cannot hold connections for minutes, and the cap stays under the
 * common 1024 file-descriptor limit so the database always has descriptors left.
 */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxConnections: 512,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
});

/** Longest accepted timeout: a day (timers cannot go past 2^31 ms anyway). */
const MAX_TIMEOUT_MS = 86_400_000;

/** Flag name of each limit, for messages. */
const LIMIT_FLAGS: Readonly<Record<keyof ServerLimits, string>> = {
  maxConnections: "--max-connections",
  headersTimeoutMs: "--headers-timeout-ms",
  requestTimeoutMs: "--request-timeout-ms",
  keepAliveTimeoutMs: "--keep-alive-timeout-ms",
};

/** The limits with defaults filled in, or a message naming the first unusable one. */
function resolveServerLimits(options: ServeOptions): ServerLimits | string {
  const limits: ServerLimits = {
    maxConnections: options.maxConnections ?? DEFAULT_SERVER_LIMITS.maxConnections,
    headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_SERVER_LIMITS.headersTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_SERVER_LIMITS.requestTimeoutMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs,
  };
  for (const key of Object.keys(LIMIT_FLAGS) as (keyof ServerLimits)[]) {
    const max = key === "maxConnections" ? 1_000_000 : MAX_TIMEOUT_MS;
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > max) return `${LIMIT_FLAGS[key]} must be an integer from 1 to ${max}, got ${value}`;
  }
  // Node refuses a headers timeout longer than the request timeout.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    return `--headers-timeout-ms (${limits.headersTimeoutMs}) must not exceed --request-timeout-ms (${limits.requestTimeoutMs})`;
  }
  return limits;
}

/** A problem with the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** A problem starting up (database, file, port): printed, exit code 1. */
export class StartupError extends Error {}

/**
 * Parses `serve` arguments. An explicit `--db` wins over `DATABASE_URL`
 * from the environment; `--database-url` wins over both.
 *
 * @example
 * parseServeArgs(["--port", "9000"], {}); // { host: "127.0.0.1", port: 9000, db: "./oauth-clients.sqlite", … }
 */
export function parseServeArgs(args: readonly string[], env: Readonly<Record<string, string | undefined>>): ServeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        db: { type: "string" },
        "database-url": { type: "string" },
        "scope-catalog": { type: "string" },
        "max-connections": { type: "string" },
        "headers-timeout-ms": { type: "string" },
        "request-timeout-ms": { type: "string" },
        "keep-alive-timeout-ms": { type: "string" },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const host = values.host ?? "127.0.0.1";
  if (host.trim() === "") throw new UsageError("--host must not be empty");
  const portText = values.port ?? "8787";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${portText}"`);
  }
  const databaseUrl = values["database-url"] ?? (values.db === undefined ? env.DATABASE_URL || null : null);
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new UsageError("--database-url / DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  if (values.db !== undefined && values.db.trim() === "") throw new UsageError("--db must not be empty");
  const integer = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d{1,16}$/.test(text)) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
    return Number(text);
  };
  const options: ServeOptions = {
    host,
    port: Number(portText),
    db: values.db ?? "./oauth-clients.sqlite",
    databaseUrl,
    scopeCatalog: values["scope-catalog"] ?? null,
  };
  const limits = resolveServerLimits({
    ...options,
    maxConnections: integer("--max-connections", values["max-connections"]),
    headersTimeoutMs: integer("--headers-timeout-ms", values["headers-timeout-ms"]),
    requestTimeoutMs: integer("--request-timeout-ms", values["request-timeout-ms"]),
    keepAliveTimeoutMs: integer("--keep-alive-timeout-ms", values["keep-alive-timeout-ms"]),
  });
  if (typeof limits === "string") throw new UsageError(limits);
  return { ...options, ...limits };
}

/** A scope catalog entry as the catalog file may spell it. */
interface CatalogEntry {
  id: string;
  name?: string;
  category?: string;
}

/**
 * Reads a scope catalog file: a JSON array of scope strings or of
 * `{ id, name?, category? }` objects (optionally wrapped as `{ "scopes": [...] }`).
 */
async function loadScopeCatalog(file: string): Promise<CatalogEntry[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new StartupError(`cannot read the scope catalog ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { scopes?: unknown } | null)?.scopes;
  if (!Array.isArray(list)) {
    throw new StartupError(`scope catalog ${file} must be a JSON array of scopes (or { "scopes": [...] })`);
  }
  return list.map((entry, i): CatalogEntry => {
    if (typeof entry === "string" && entry !== "") return { id: entry };
    const object = entry as Partial<CatalogEntry> | null;
    if (object && typeof object === "object" && typeof object.id === "string" && object.id !== "") {
      return {
        id: object.id,
        ...(typeof object.name === "string" ? { name: object.name } : {}),
        ...(typeof object.category === "string" ? { category: object.category } : {}),
      };
    }
    throw new StartupError(`scope catalog ${file}: entry ${i} must be a scope string or an object with an "id"`);
  });
}

/** Removes the password from a database URL before it is printed. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable database URL>";
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}

/** An error's stack followed by each cause's message, so a logged 500 shows what the store said. */
function describeWithCauses(error: unknown): string {
  const lines = [error instanceof Error ? (error.stack ?? error.message) : String(error)];
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const code = (cause as { code?: unknown } | null)?.code;
    lines.push(`  caused by: ${messageOf(cause)}${typeof code === "string" ? ` (${code})` : ""}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines.join("\n");
}

function isMissingModule(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "ERR_MODULE_NOT_FOUND";
}

interface OpenedStore {
  store: ClientStore;
  description: string;
  close(): Promise<void>;
}

async function openSqlite(file: string): Promise<OpenedStore> {
  const path = resolve(file);
  const directory = dirname(path);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new StartupError(`cannot open SQLite database ${path}: directory ${directory} does not exist`);
  }
  try {
    accessSync(existsSync(path) ? path : directory, fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    throw new StartupError(`cannot open SQLite database ${path}: not writable`);
  }
  let adapter: typeof import("../adapters/sqlite.js");
  try {
    adapter = await import("../adapters/sqlite.js");
  } catch (error) {
    if (isMissingModule(error)) throw new StartupError("SQLite storage needs better-sqlite3: npm install better-sqlite3");
    throw error;
  }
  let store: ClientStore;
  try {
    // The store's defaults are the server's: an integrity check before
    // serving, synchronous = FULL, and lock waits that never block requests.
    store = adapter.createSqliteStore(path);
  } catch (error) {
    const reason = error instanceof adapter.SqliteOpenError ? error.reason : messageOf(error);
    throw new StartupError(`cannot open SQLite database ${path}: ${reason}`, { cause: error });
  }
  return { store, description: `SQLite ${path}`, close: async () => store.close?.() };
}

async function openPostgres(url: string, log: (line: string) => void): Promise<OpenedStore> {
  const shown = redactUrl(url);
  let kysely: typeof import("kysely");
  let pg: typeof import("pg");
  let adapter: typeof import("../adapters/kysely.js");
  try {
    [kysely, pg, adapter] = await Promise.all([import("kysely"), import("pg"), import("../adapters/kysely.js")]);
  } catch (error) {
    if (isMissingModule(error)) throw new StartupError("PostgreSQL storage needs kysely and pg: npm install kysely pg");
    throw error;
  }
  const Pool = pg.default?.Pool ?? pg.Pool;
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A connection the server drops (restart, failover, pg_terminate_backend)
  // emits 'error': on the pool while idle, on the client itself while checked
  // out (the socket can close just after a query failed, before the client is
  // released). Unheard, either would end the process. The pool discards the
  // broken connection and opens a new one on demand; requests meanwhile get 503.
  const lost = (error: Error) => log(`PostgreSQL connection lost (the pool reconnects on demand): ${messageOf(error)}`);
  pool.on("error", lost);
  pool.on("connect", (client: import("pg").PoolClient) => client.on("error", lost));
  const db = new kysely.Kysely<unknown>({ dialect: new kysely.PostgresDialect({ pool }) });
  try {
    await kysely.sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot connect to PostgreSQL at ${shown}: ${messageOf(error)}`);
  }
  try {
    await adapter.migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot migrate the PostgreSQL database at ${shown}: ${messageOf(error)}`);
  }
  const store = adapter.createKyselyStore(db);
  return { store, description: `PostgreSQL ${shown}`, close: () => db.destroy() };
}

/** Where the command writes; tests and embedders can capture it. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * One access-log line per request once its response is done: time, method,
 * the path exactly as the client sent it (no query), status, duration.
 * Never headers. Logged from the raw request target, before any URL parser
 * could normalize it, so a refused `/a/%2e%2e/b` shows as sent. Bytes
 * outside printable ASCII (which Node's parser refuses anyway) are
 * percent-escaped so that a line stays one line. A response cut short (the
 * client left, a timeout) logs `aborted` instead of a status.
 */
function withAccessLog(listener: NodeRequestListener, log: (line: string) => void): NodeRequestListener {
  return (request, response) => {
    const started = performance.now();
    const method = request.method ?? "-";
    const path = rawRequestPath(request.url ?? "").replace(
      /[^\x21-\x7e]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
    response.once("close", () => {
      const status = response.writableFinished ? String(response.statusCode) : "aborted";
      const ms = (performance.now() - started).toFixed(1);
      log(`${new Date().toISOString()} ${method} ${path} ${status} ${ms}ms`);
    });
    return listener(request, response);
  };
}

/** A running server; `close` stops accepting, finishes in-flight requests, then closes the database. */
export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Starts the HTTP API. Resolves once listening; rejects with a
 * {@link StartupError} when the database, the catalog or the port is unusable.
 *
 * @example
 * const running = await serve(parseServeArgs(["--port", "0"], process.env), process.env);
 * console.log(running.url); // http://127.0.0.1:54321/client/v4
 * await running.close();
 */
export async function serve(
  options: ServeOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput = consoleOutput,
): Promise<RunningServer> {
  const limits = resolveServerLimits(options);
  if (typeof limits === "string") throw new StartupError(limits);
  const catalog = options.scopeCatalog === null ? null : await loadScopeCatalog(options.scopeCatalog);
  const opened = options.databaseUrl !== null ? await openPostgres(options.databaseUrl, output.err) : await openSqlite(options.db);

  let token = env.OAUTH_REGISTRY_API_TOKEN ?? "";
  if (token === "") {
    token = generateSecret();
    output.out(`API token (generated for this run; set OAUTH_REGISTRY_API_TOKEN to keep one): ${token}`);
  }

  const details = new Map(catalog?.map((entry) => [entry.id, entry]));
  const registry = createOAuthClientRegistry(opened.store, catalog ? { scopeCatalog: catalog.map((e) => e.id) } : {});
  const handler = createFetchHandler(registry, {
    authorize: bearerTokenAuthorize(token),
    describeScope: (scope) => details.get(scope),
    onError: (error) => output.err(`internal error: ${describeWithCauses(error)}`),
  });
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts on this period (30 s by default, which
      // would let a 1 s timeout fire after 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(limits.headersTimeoutMs / 4))),
    },
    withAccessLog(createNodeRequestListener(handler), output.out),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once("error", rejectListen);
      server.listen(options.port, options.host, () => {
        server.off("error", rejectListen);
        resolveListen();
      });
    });
  } catch (error) {
    await opened.close().catch(() => undefined);
    const code = (error as { code?: string }).code;
    const reason = code === "EADDRINUSE" ? "address already in use" : code === "EACCES" ? "permission denied" : messageOf(error);
    throw new StartupError(`cannot listen on ${options.host}:${options.port}: ${reason}`);
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/client/v4`;
  output.out(`oauth-client-registry listening on ${url} (storage: ${opened.description})`);

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
          // In-flight requests get a moment to finish; then connections are cut.
          setTimeout(() => server.closeAllConnections(), 5000).unref();
        });
        await opened.close();
      })()),
  };
}

/**
 * Entry point of the bin. Resolves with the process exit code for usage and
 * startup errors; while serving it only returns on a signal.
 *
 * @example
 * process.exit(await main(["serve", "--port", "9000"]));
 */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, output: CliOutput = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === "help" || (command === "serve" && rest.some((a) => a === "-h" || a === "--help"))) {
    output.out(USAGE);
    return 0;
  }
  if (command !== "serve") {
    output.err(command === undefined ? "error: missing command" : `error: unknown command "${command}"`);
    output.err(USAGE);
    return 2;
  }
  let options: ServeOptions;
  try {
    options = parseServeArgs(rest, env);
  } catch (error) {
    output.err(`error: ${messageOf(error)}`);
    output.err(USAGE);
    return 2;
  }
  let running: RunningServer;
  try {
    running = await serve(options, env, output);
  } catch (error) {
    output.err(`error: ${error instanceof StartupError ? error.message : messageOf(error)}`);
    return 1;
  }
  return new Promise<number>((resolveExit) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // A second signal while draining exits at once.
      process.once(signal, () => resolveExit(1));
      output.out(`${signal} received, shutting down`);
      running.close().then(
        () => resolveExit(0),
        (error: unknown) => {
          output.err(`error while shutting down: ${messageOf(error)}`);
          resolveExit(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${messageOf(error)}\n`);
      process.exit(1);
    },
  );
}
