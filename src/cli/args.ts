/**
 * The command line of `serve`: its usage text, the options it parses into,
 * and the connection limits with their defaults and bounds.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { accountIdIssue } from "../model/ids.js";
import { isLoopbackHost } from "../rules/uris.js";
import type { VerificationSchedulerOptions } from "../registry/verification-scheduler.js";
import type { ResolveTxt } from "../registry/verification.js";
import { LOG_FORMATS, type LogFormat } from "./access-log.js";
import { UsageError } from "./errors.js";

/** The help text, printed for `--help` and after a usage error. */
export const USAGE = `Usage: oauth-client-registry serve [options]

Serves the OAuth Clients HTTP API (Cloudflare v4 compatible) under /client/v4.

Options:
  --host HOST            interface to listen on (default 127.0.0.1)
  --port PORT            port to listen on, 0 for any free one (default 8787)
  --db FILE              SQLite database file (default ./oauth-clients.sqlite)
  --database-url URL     PostgreSQL (postgres://…) or MySQL / MariaDB (mysql://…) URL;
                         overrides --db; default $DATABASE_URL
  --scope-catalog FILE   JSON list of the API scopes clients may request
  --credentials FILE     JSON file of hashed API credentials (tokens, key + email pairs), each
                         limited to accounts and to read or read_write; reloaded on SIGHUP
  --max-connections N    connections open at once; more are closed on accept (default 512)
  --headers-timeout-ms MS
                         time to receive a request's headers, also the longest a new
                         connection may stay silent; then 408 (default 10000)
  --request-timeout-ms MS
                         time to receive a whole request, body included; then 408
                         (default 30000; at least the headers timeout)
  --keep-alive-timeout-ms MS
                         idle time before a kept-alive connection is closed (default 5000)
  --no-console           do not serve the operator console at / (served by default)
  --workers N|auto       worker processes serving the port (node:cluster), auto = one per
                         available core (default 1); one SQLite file (WAL) or PostgreSQL for
                         all; a worker that dies is replaced; /healthz and /readyz answer for
                         the worker that takes the request, /metrics sums every worker
                         (see docs/scaling.md)
  -h, --help             show this help

Dynamic client registration (off by default):
  --registration         serve RFC 7591 registration at POST /register and RFC 7592
                         read/update/delete at /register/{client_id}, open to anyone
                         who can reach the port (no initial access token)
  --registration-account ID
                         account that registered clients land in (default "registered")
  --registration-rate-limit N
                         requests to /register per client address (IPv6: per /64) per hour,
                         counted in the database so every instance on it shares the budget;
                         past it 429 (default 30; 0: no limit). Behind a reverse proxy every
                         request has the proxy's address: limit at the proxy and set 0
  --registration-max-clients N
                         most clients in the registration account; past it registration
                         answers 429 naming the cap (default 10000; 0: no cap)
  --registration-idle-days N
                         delete registered clients unused for N days, checked hourly in
                         batches (default 30; 0: never)
  --public-url URL       public URL the server is reached at (scheme, host, any path prefix a
                         proxy strips); registration_client_uri is built from it, never from
                         request headers. https, or http on localhost / 127.0.0.1 / [::1];
                         no query or fragment. Default $OAUTH_REGISTRY_PUBLIC_URL, else
                         http://<host>:<port> of the listening address

Operations (GET /healthz and /readyz are always served, without credentials):
  --log-format FORMAT    access log on stdout: text (default) or json, one object per line
  --metrics              serve Prometheus metrics at /metrics (off by default)

Environment:
  OAUTH_REGISTRY_API_TOKEN   a bearer token for every account, read/write; generated and
                             printed once when no credential is configured at all
  OAUTH_REGISTRY_API_KEY, OAUTH_REGISTRY_API_EMAIL
                             an API key + email pair (X-Auth-Key / X-Auth-Email, the SDK's
                             apiKey / apiEmail) for every account, read/write; set both or neither
  DATABASE_URL               PostgreSQL or MySQL / MariaDB URL, used when neither --db nor
                             --database-url is given
  OAUTH_REGISTRY_PUBLIC_URL  public URL for --registration, used when --public-url is not given

Other commands:
  hash-secret            reads a token or API key on stdin and prints the sha256$… hash
                         that a --credentials file holds (see hash-secret --help)
  copy --from SOURCE --to TARGET, export --from SOURCE, import --to TARGET
                         move every client as stored between a SQLite file, postgres://
                         and mysql://, or through JSON Lines (see copy --help)
`;

/** Options of the `serve` command after parsing. */
export interface ServeOptions {
  host: string;
  port: number;
  /** SQLite file, used when `databaseUrl` is null. */
  db: string;
  databaseUrl: string | null;
  scopeCatalog: string | null;
  /** Credentials file (`--credentials`), reloaded on SIGHUP; null or absent for none. */
  credentials?: string | null;
  /** Open connections at once; further ones are closed as soon as they are accepted. Default 512. */
  maxConnections?: number;
  /** Time allowed to receive a request's headers (and the longest a new connection may stay silent). Default 10 000 ms. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request, body included; then 408 and the connection closes. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Idle time after a response before a kept-alive connection closes. Default 5 000 ms. */
  keepAliveTimeoutMs?: number;
  /** Worker processes serving the port (`--workers`; `auto` is resolved to the available cores). Default 1: no cluster. */
  workers?: number;

  // Operations: access log and metrics.
  /** Access-log format on stdout. Default `"text"`. */
  logFormat?: LogFormat;
  /** Serve Prometheus metrics at `/metrics`. Default false. */
  metrics?: boolean;

  /** Serve dynamic client registration (RFC 7591/7592) at `/register`. Default false. */
  registration?: boolean;
  /** The account registered clients land in. Default `"registered"`. */
  registrationAccount?: string;
  /** Registration requests per client address per hour, shared through the database; 0 for none. Default 30. */
  registrationRateLimit?: number;
  /** Most clients in the registration account; 0 for no cap. Default 10 000. */
  registrationMaxClients?: number;
  /** Days unused after which a registered client is purged; 0 for never. Default 30. */
  registrationIdleDays?: number;
  /**
   * Public URL the server is reached at, as {@link normalizePublicUrl}
   * returns it: `registration_client_uri` is `<publicUrl>/register/<client_id>`.
   * Null or absent: `http://<host>:<port>` of the listening address, never a
   * request's `Host` header.
   */
  publicUrl?: string | null;

  /** Serve the operator console at `/`. Default true (`--no-console` turns it off). */
  console?: boolean;
  /** Background client_uri verification; from code only, no flag. Defaults suit production. */
  verification?: ServeVerificationOptions;
}

/**
 * How `serve` verifies client_uri hosts: the TXT resolver, the time limit
 * of one lookup, and the scheduler's settings (its timers and clock too,
 * which tests replace).
 */
export interface ServeVerificationOptions extends Omit<VerificationSchedulerOptions, "accounts" | "onError"> {
  /** TXT resolver. Default `node:dns/promises`. */
  resolveTxt?: ResolveTxt;
  /** Longest a lookup may take, explicit checks included; then it counts as not found. Default 5 000 ms. */
  lookupTimeoutMs?: number;
}

/** Default of `--registration-account`. */
export const DEFAULT_REGISTRATION_ACCOUNT = "registered";

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

/**
 * A public URL in the form `serve` uses it (origin and path prefix, no
 * trailing slash), or a message saying why it cannot be one: it must be
 * absolute, https (http only on a loopback host, for local use), without
 * user information, query or fragment.
 *
 * @example
 * ```ts
 * normalizePublicUrl("https://auth.example.com/oauth/"); // "https://auth.example.com/oauth"
 * normalizePublicUrl("http://auth.example.com"); // { problem: "must use https (http only on localhost, 127.0.0.1 or [::1]), got …" }
 * ```
 */
export function normalizePublicUrl(text: string): string | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `must be an absolute URL such as https://auth.example.com, got ${JSON.stringify(text)}` };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    return { problem: `must use https (http only on localhost, 127.0.0.1 or [::1]), got ${JSON.stringify(text)}` };
  }
  // The URL parser drops an empty "?" or "#", and "user@" would be kept but never meant: all are refused as written.
  if (/[?#]/.test(text) || url.username !== "" || url.password !== "" || /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(text)) {
    return { problem: `must not have user information, a query or a fragment, got ${JSON.stringify(text)}` };
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** Longest accepted timeout: a day (timers cannot go past 2^31 ms anyway). */
const MAX_TIMEOUT_MS = 86_400_000;

/** Flag name of each limit, for messages. */
const LIMIT_FLAGS: Readonly<Record<keyof ServerLimits, string>> = {
  maxConnections: "--max-connections",
  headersTimeoutMs: "--headers-timeout-ms",
  requestTimeoutMs: "--request-timeout-ms",
  keepAliveTimeoutMs: "--keep-alive-timeout-ms",
};

/**
 * The limits with defaults filled in, or a message naming the first unusable
 * one. `parseServeArgs` checks the flags with it; `serve` checks options built
 * in code with it too.
 *
 * @example
 * ```ts
 * resolveServerLimits({ maxConnections: 0 }); // "--max-connections must be an integer from 1 to 1000000, got 0"
 * ```
 */
export function resolveServerLimits(options: Partial<ServerLimits>): ServerLimits | string {
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

/**
 * Parses `serve` arguments. An explicit `--db` wins over `DATABASE_URL`
 * from the environment; `--database-url` wins over both.
 *
 * @example
 * ```ts
 * parseServeArgs(["--port", "9000"], {}); // { host: "127.0.0.1", port: 9000, db: "./oauth-clients.sqlite", … }
 * ```
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
        credentials: { type: "string" },
        "max-connections": { type: "string" },
        "headers-timeout-ms": { type: "string" },
        "request-timeout-ms": { type: "string" },
        "keep-alive-timeout-ms": { type: "string" },
        workers: { type: "string" },
        // Operations
        "log-format": { type: "string" },
        metrics: { type: "boolean" },
        // Dynamic client registration
        registration: { type: "boolean" },
        "registration-account": { type: "string" },
        "registration-rate-limit": { type: "string" },
        "registration-max-clients": { type: "string" },
        "registration-idle-days": { type: "string" },
        "public-url": { type: "string" },
        // Spelled out: parseArgs negates booleans only from Node 22.4.
        "no-console": { type: "boolean" },
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
  if (databaseUrl !== null && !/^(postgres(ql)?|mysql|mariadb):\/\//i.test(databaseUrl)) {
    throw new UsageError("--database-url / DATABASE_URL must be a postgres:// (postgresql://) or mysql:// (mariadb://) URL");
  }
  if (values.db !== undefined && values.db.trim() === "") throw new UsageError("--db must not be empty");
  if (values.credentials !== undefined && values.credentials.trim() === "") throw new UsageError("--credentials must not be empty");
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
    credentials: values.credentials ?? null,
  };
  const limits = resolveServerLimits({
    maxConnections: integer("--max-connections", values["max-connections"]),
    headersTimeoutMs: integer("--headers-timeout-ms", values["headers-timeout-ms"]),
    requestTimeoutMs: integer("--request-timeout-ms", values["request-timeout-ms"]),
    keepAliveTimeoutMs: integer("--keep-alive-timeout-ms", values["keep-alive-timeout-ms"]),
  });
  if (typeof limits === "string") throw new UsageError(limits);
  const logFormat = values["log-format"] ?? "text";
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(", ")}, got "${logFormat}"`);
  }
  const registration = values.registration ?? false;
  const registrationAccount = values["registration-account"];
  if (registrationAccount !== undefined && !registration) {
    throw new UsageError("--registration-account needs --registration");
  }
  const accountProblem = registrationAccount === undefined ? null : accountIdIssue(registrationAccount);
  if (accountProblem !== null) throw new UsageError(`--registration-account: ${accountProblem.message}`);
  const publicUrl = parsePublicUrl(values["public-url"], env.OAUTH_REGISTRY_PUBLIC_URL, registration);
  const registrationLimit = (flag: "registration-rate-limit" | "registration-max-clients" | "registration-idle-days"): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    if (!registration) throw new UsageError(`--${flag} needs --registration`);
    if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--${flag} must be a non-negative integer, got "${text}"`);
    return Number(text);
  };
  const registrationRateLimit = registrationLimit("registration-rate-limit");
  const registrationMaxClients = registrationLimit("registration-max-clients");
  const registrationIdleDays = registrationLimit("registration-idle-days");
  return {
    ...options,
    ...limits,
    workers: parseWorkers(values.workers),
    logFormat: logFormat as LogFormat,
    metrics: values.metrics ?? false,
    registration,
    registrationAccount: registrationAccount ?? DEFAULT_REGISTRATION_ACCOUNT,
    ...(registrationRateLimit === undefined ? {} : { registrationRateLimit }),
    ...(registrationMaxClients === undefined ? {} : { registrationMaxClients }),
    ...(registrationIdleDays === undefined ? {} : { registrationIdleDays }),
    publicUrl,
    console: values["no-console"] !== true,
  };
}

/** Most worker processes `--workers` accepts. */
export const MAX_WORKERS = 256;

/** `--workers N|auto`: auto is one per available core. */
function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1;
  if (text === "auto") return availableParallelism();
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_WORKERS) {
    throw new UsageError(`--workers must be auto or an integer from 1 to ${MAX_WORKERS}, got "${text}"`);
  }
  return Number(text);
}

/**
 * `--public-url`, else `OAUTH_REGISTRY_PUBLIC_URL`, checked; null when
 * neither is set. Only registration builds URLs today, so the flag needs
 * `--registration`; the variable is checked whenever it is set, as a
 * deployment's environment should not hold a URL that would be refused.
 */
function parsePublicUrl(flag: string | undefined, variable: string | undefined, registration: boolean): string | null {
  if (flag !== undefined && !registration) throw new UsageError("--public-url needs --registration");
  const [name, text] = flag !== undefined ? ["--public-url", flag] : ["OAUTH_REGISTRY_PUBLIC_URL", variable || undefined];
  if (text === undefined) return null;
  const normalized = normalizePublicUrl(text);
  if (typeof normalized !== "string") throw new UsageError(`${name} ${normalized.problem}`);
  return normalized;
}
