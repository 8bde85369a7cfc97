/**
 * Serving: the node:http server around the fetch handler, with the
 * connection limits, the health endpoints and optional metrics, an access
 * log (text or JSON), a graceful close, and shutdown on SIGINT / SIGTERM.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createConsoleHandler } from "../console/index.js";
import { CALL_HANDLER, callHandlerOf, fetchCall, type CallHandler } from "../http/call.js";
import { toResponse, type Answer } from "../http/envelope.js";
import { createFetchHandler } from "../http/handler.js";
import { createNodeRequestListener, type NodeRequestListener } from "../http/node.js";
import { createRegistrationHandler } from "../registration/handler.js";
import { createOAuthClientRegistry } from "../registry/registry.js";
import type { RegistryEvent } from "../model/events.js";
import { createVerificationScheduler, resolveTxtWithTimeout, type VerificationScheduler } from "../registry/verification-scheduler.js";
import { resolveTxtWithNodeDns } from "../registry/verification.js";
import { formatAccessLine, observeRequests, routeTemplate, type FinishedRequest } from "./access-log.js";
import { DEFAULT_REGISTRATION_ACCOUNT, normalizePublicUrl, resolveServerLimits, type ServeOptions } from "./args.js";
import { loadScopeCatalog } from "./catalog.js";
import { serveCredentials } from "./credentials.js";
import { messageOf, StartupError } from "./errors.js";
import { operationsPaths, storageReadiness, withOperations, type OperationsOptions } from "./health.js";
import { createServeMetrics, type ServeMetrics } from "./metrics.js";
import { DEFAULT_REGISTRATION_LIMITS, registrationGuard, type RegistrationGuard } from "./registration-guard.js";
import { openStore, type OpenedStore } from "./stores.js";

/** Where the command writes; tests and embedders can capture it. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Lines to the process's stdout and stderr. */
export const consoleOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

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

/**
 * The API listener behind the operational endpoints, every request observed
 * for the access log (in `options.logFormat`) and the metrics.
 */
function operationsListener(
  api: NodeRequestListener,
  store: OpenedStore["store"],
  metrics: ServeMetrics | null,
  options: ServeOptions,
  output: CliOutput,
  onApiRequest: (done: FinishedRequest) => void,
) {
  const operations: OperationsOptions = {
    ready: storageReadiness(store, (ready, reason) =>
      output.err(ready ? "readiness: storage answers again" : `readiness: storage unavailable: ${reason}`),
    ),
    metrics,
  };
  const exactPaths = operationsPaths(operations);
  const format = options.logFormat ?? "text";
  const registration = options.registration === true;
  return observeRequests(
    withOperations(api, operations),
    (rawPath) => (registration ? registrationRoute(rawPath) : null) ?? routeTemplate(rawPath, "/client/v4", exactPaths),
    (done) => {
      output.out(formatAccessLine(done, format));
      metrics?.observeRequest(done);
      onApiRequest(done);
    },
  );
}

/** The account of an API path (`/client/v4/accounts/{account_id}/…`), decoded, or null. */
function accountOfApiPath(rawPath: string): string | null {
  const match = /^\/client\/v4\/accounts\/([^/]+)\/oauth_clients(?:\/|$)/.exec(rawPath);
  if (match === null) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}

/** Path of the registration endpoint when `--registration` is on. */
export const REGISTRATION_PATH = "/register";

/** The route of a registration request for the access log and metrics: client ids are not labels. */
function registrationRoute(rawPath: string): string | null {
  if (rawPath === REGISTRATION_PATH) return REGISTRATION_PATH;
  return /^\/register\/[^/]+$/.test(rawPath) ? `${REGISTRATION_PATH}/{client_id}` : null;
}

type FetchHandler = (request: Request) => Promise<Response>;

/**
 * What `serve` answers, by path: the registration handler at `/register`
 * and below (with `--registration`), the operator console at `/` for what
 * it serves (anything it answers 404 goes on, so unknown paths keep the
 * API's JSON 404 and the API's routes are never shadowed), and the
 * management API for everything else. The management API lives under
 * `/client/v4`, so no two claim the same path. The registration handler
 * is made once the server listens (its default public URL is the listening
 * address), before any request can arrive.
 *
 * The result carries the handlers' own entry point below the fetch
 * signature, so the node bridge serves API and registration calls without
 * building a fetch `Request` or `Response`; only console pages take the
 * fetch path.
 */
function serveHandler(management: FetchHandler, registration: (() => FetchHandler) | null, withConsole: boolean): FetchHandler {
  const consoleHandler = withConsole ? createConsoleHandler({ basePath: "/", apiBasePath: "/client/v4" }) : null;
  const direct = (handler: FetchHandler): CallHandler => callHandlerOf(handler) ?? (async (call) => answerOf(await handler(call.request())));
  const managementCall = direct(management);

  const handleCall: CallHandler = async (call) => {
    const { pathname } = call;
    if (registration !== null && (pathname === REGISTRATION_PATH || pathname.startsWith(`${REGISTRATION_PATH}/`))) {
      return direct(registration())(call);
    }
    if (consoleHandler !== null && !pathname.startsWith("/client/v4/")) {
      const page = await consoleHandler(call.request());
      if (page.status !== 404) return answerOf(page);
    }
    return managementCall(call);
  };
  const handleRequest: FetchHandler = async (request) => toResponse(await handleCall(fetchCall(request)), request.method === "HEAD");
  Object.defineProperty(handleRequest, CALL_HANDLER, { value: handleCall });
  return handleRequest;
}

/** A fetch `Response` with a text body (the console's pages and assets) as the bridge's answer. */
async function answerOf(response: Response): Promise<Answer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { status: response.status, headers, body: response.body === null ? null : await response.text() };
}

/** Listening on every interface: an address no client can be sent to. */
function isWildcardAddress(address: string): boolean {
  return address === "0.0.0.0" || address === "::" || address === "::ffff:0.0.0.0";
}

/** Ways for the process that runs `serve` to take part: `--workers` aggregates the metrics of every worker. */
export interface ServeHooks {
  /** Called with the metrics (when `--metrics` is on) before the server listens. */
  metrics?(metrics: ServeMetrics): void;
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
 * ```ts
 * declare const options: Parameters<typeof serve>[0]; // parseServeArgs(["--port", "0"], process.env)
 * const running = await serve(options, process.env);
 * console.log(running.url); // e.g. http://127.0.0.1:54321/client/v4
 * await running.close();
 * ```
 */
export async function serve(
  options: ServeOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput = consoleOutput,
  hooks: ServeHooks = {},
): Promise<RunningServer> {
  const limits = resolveServerLimits(options);
  if (typeof limits === "string") throw new StartupError(limits);
  // Checked here too for options built in code rather than parsed from flags; before anything is opened.
  const configuredUrl = options.publicUrl === undefined || options.publicUrl === null ? null : normalizePublicUrl(options.publicUrl);
  if (configuredUrl !== null && typeof configuredUrl !== "string") throw new StartupError(`publicUrl ${configuredUrl.problem}`);
  const catalog = options.scopeCatalog === null ? null : await loadScopeCatalog(options.scopeCatalog);
  // Before the store opens: a bad credentials file fails start-up with nothing to close.
  const credentials = await serveCredentials(options.credentials ?? null, env, output.out);
  const opened = await openStore(options, output.err);

  const details = new Map(catalog?.map((entry) => [entry.id, entry]));
  const metrics = options.metrics === true ? createServeMetrics() : null;
  if (metrics !== null) hooks.metrics?.(metrics);
  const { resolveTxt = resolveTxtWithNodeDns, lookupTimeoutMs = 5_000, ...scheduling } = options.verification ?? {};
  // The scheduler needs the registry and hears its events: it is set right after.
  const late: { verifier?: VerificationScheduler } = {};
  const registry = createOAuthClientRegistry(opened.store, {
    ...(catalog ? { scopeCatalog: catalog.map((e) => e.id) } : {}),
    // Bounded so that neither an explicit check nor a background one waits on a silent DNS server.
    resolveTxt: resolveTxtWithTimeout(resolveTxt, lookupTimeoutMs, scheduling.timers),
    onEvent: (event: RegistryEvent) => {
      late.verifier?.onEvent(event);
      return metrics?.onRegistryEvent(event);
    },
  });
  const registrationAccount = options.registrationAccount ?? DEFAULT_REGISTRATION_ACCOUNT;
  const verifier = createVerificationScheduler(registry, {
    ...scheduling,
    // Pending checks resume after a restart in every account the store lists (every store of this
    // package can), and in the accounts known at start: the registration account and those the
    // credentials file names. On a store that cannot list them, other accounts resume on their first call.
    store: opened.store,
    accounts: [...(options.registration === true ? [registrationAccount] : []), ...credentials.accounts()],
    onError: (error) => output.err(`client_uri verification: ${messageOf(error)}`),
  });
  late.verifier = verifier;
  const onError = (error: unknown) => output.err(`internal error: ${describeWithCauses(error)}`);
  const management = createFetchHandler(registry, {
    authorize: credentials.authorize,
    describeScope: (scope) => details.get(scope),
    onError,
  });
  let registration: FetchHandler | undefined;
  const guard: RegistrationGuard | null =
    options.registration === true
      ? registrationGuard(
          opened.store,
          registry,
          registrationAccount,
          {
            rateLimit: options.registrationRateLimit ?? DEFAULT_REGISTRATION_LIMITS.rateLimit,
            maxClients: options.registrationMaxClients ?? DEFAULT_REGISTRATION_LIMITS.maxClients,
            idleDays: options.registrationIdleDays ?? DEFAULT_REGISTRATION_LIMITS.idleDays,
          },
          output.out,
        )
      : null;
  const handler = serveHandler(
    management,
    options.registration === true
      ? () => {
          if (registration === undefined) throw new Error("the registration handler is used before the server listens");
          return registration;
        }
      : null,
    options.console !== false,
  );
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts on this period (30 s by default, which
      // would let a 1 s timeout fire after 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(limits.headersTimeoutMs / 4))),
    },
    ((listener) => guard?.wrap(listener) ?? listener)(
      operationsListener(createNodeRequestListener(handler), opened.store, metrics, options, output, (done) => {
        // An account that answered a call is swept for pending checks: after a restart, its checks resume.
        const accountId = done.status !== null && done.status < 300 ? accountOfApiPath(done.path) : null;
        if (accountId !== null) verifier.watchAccount(accountId);
      }),
    ),
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
    await guard?.stop();
    await verifier.close();
    await opened.close().catch(() => undefined);
    const code = (error as { code?: string }).code;
    const reason = code === "EADDRINUSE" ? "address already in use" : code === "EACCES" ? "permission denied" : messageOf(error);
    throw new StartupError(`cannot listen on ${options.host}:${options.port}: ${reason}`);
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/client/v4`;
  output.out(`oauth-client-registry listening on ${url} (storage: ${opened.description})`);
  output.out(`API credentials: ${credentials.description}`);
  if (options.console !== false) output.out(`operator console: http://${host}:${address.port}/ (sign in with the API credentials)`);
  if (options.registration === true) {
    // registration_client_uri comes from configuration or from the socket, never from a request's Host header.
    const publicUrl = configuredUrl ?? `http://${host}:${address.port}`;
    registration = createRegistrationHandler(registry, {
      path: REGISTRATION_PATH,
      accountId: registrationAccount,
      baseUrl: publicUrl,
      onError,
      ...(guard?.rateLimit ? { rateLimit: guard.rateLimit, rateLimitRetryAfterSeconds: 600 } : {}),
      ...(guard?.clientLimit ? { clientLimit: guard.clientLimit } : {}),
    });
    output.out(
      `dynamic client registration: POST ${publicUrl}${REGISTRATION_PATH} (open to anyone who can reach this port; ` +
        `clients land in account "${options.registrationAccount ?? DEFAULT_REGISTRATION_ACCOUNT}"; registration_client_uri is built on ` +
        `${publicUrl}${configuredUrl === null ? ", the listening address: set --public-url to the URL clients reach" : ""})`,
    );
    output.out(`registration limits: ${guard!.description}`);
    if (configuredUrl === null && isWildcardAddress(address.address)) {
      output.err(
        `warning: registration_client_uri points at ${publicUrl}, which clients cannot reach: ` +
          "set --public-url (or OAUTH_REGISTRY_PUBLIC_URL) to the URL clients use",
      );
    }
  }
  const reload = credentials.reload;
  const reloadAndWatch =
    reload === null
      ? null
      : async () => {
          const count = await reload();
          // Accounts a reloaded file names for the first time are swept too (watching one twice is a no-op).
          for (const account of credentials.accounts()) verifier.watchAccount(account);
          return count;
        };
  const stopReloading = reloadAndWatch === null ? () => {} : reloadOnSighup(reloadAndWatch, options.credentials!, output);

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close: () =>
      (closing ??= (async () => {
        stopReloading();
        await guard?.stop();
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
          // In-flight requests get a moment to finish; then connections are cut.
          setTimeout(() => server.closeAllConnections(), 5000).unref();
        });
        // Running checks finish (each lookup is time-limited) before the database closes.
        await verifier.close();
        await opened.close();
      })()),
  };
}

/**
 * Re-reads the credentials file on each SIGHUP: a valid file replaces the
 * credentials in force at once; an invalid one is logged and refused, and
 * the previous credentials stay. Returns the function that stops listening.
 */
function reloadOnSighup(reload: () => Promise<number>, file: string, output: CliOutput): () => void {
  const onHangup = () => {
    reload().then(
      (count) => output.out(`SIGHUP: credentials reloaded from ${file} (${count} entries)`),
      (error: unknown) => output.err(`error: SIGHUP: ${messageOf(error)}\nthe previous credentials stay in force`),
    );
  };
  process.on("SIGHUP", onHangup);
  return () => process.off("SIGHUP", onHangup);
}

/**
 * Waits for SIGINT or SIGTERM, then closes the server and resolves with the
 * exit code: 0 after a clean close, 1 if closing failed or a second signal
 * came while draining.
 *
 * @example
 * ```ts
 * declare const options: Parameters<typeof serve>[0]; // from parseServeArgs
 * process.exit(await closeOnSignal(await serve(options, process.env)));
 * ```
 */
export function closeOnSignal(running: RunningServer, output: CliOutput = consoleOutput): Promise<number> {
  return new Promise<number>((resolveExit) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // A second signal while draining exits at once. Listened for from the
      // next turn: Deno hands the signal being handled to a listener added
      // while handling it, which would end every shutdown with exit code 1.
      setImmediate(() => process.once(signal, () => resolveExit(1)));
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
