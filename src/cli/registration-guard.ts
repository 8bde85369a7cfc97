/**
 * The safe defaults of `serve --registration`: a rate limit per client
 * address kept in the database (one budget for every process and instance
 * on it), a cap on the clients of the registration account, and a
 * scheduled purge of idle registrations. Built from the library's
 * registration building blocks; Node-only because the client address
 * comes from the socket.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRegistrationClientLimit, type RegistrationClientLimit } from "../registration/client-limit.js";
import { scheduleIdlePurge } from "../registration/idle-purge.js";
import { addressBucket, createStoreRateLimiter } from "../registration/rate-limit.js";
import type { OAuthClientRegistry } from "../registry/api.js";
import type { ClientStore } from "../model/store.js";

/** Defaults of the `--registration-*` limits. */
export const DEFAULT_REGISTRATION_LIMITS = Object.freeze({
  /** Requests to /register… per client address (an IPv6 /64) per hour. */
  rateLimit: 30,
  maxClients: 10_000,
  idleDays: 30,
});

/** The registration limits of `serve`; 0 turns one off. */
export interface RegistrationLimits {
  /** `--registration-rate-limit`: requests per client address per hour. */
  rateLimit: number;
  /** `--registration-max-clients`. */
  maxClients: number;
  /** `--registration-idle-days`. */
  idleDays: number;
}

/** What serve plugs in: the handler options, the listener wrapper that makes the address known, and the shutdown. */
export interface RegistrationGuard {
  rateLimit?: (request: Request) => Promise<boolean>;
  clientLimit?: RegistrationClientLimit;
  /** Makes each request's socket address known to the rate limit. */
  wrap<L extends (request: IncomingMessage, response: ServerResponse) => unknown>(listener: L): L;
  /** A line for the startup log. */
  readonly description: string;
  /** Stops the purge schedule, waiting for a run in progress. */
  stop(): Promise<void>;
}

const HOUR_S = 3600;
const DAY_MS = 86_400_000;

/**
 * Builds the guard of `serve --registration`.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "oauth-client-registry/memory";
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 *
 * const store = createMemoryStore();
 * const guard = registrationGuard(store, createOAuthClientRegistry(store), "registered", { rateLimit: 30, maxClients: 10_000, idleDays: 30 }, console.log);
 * await guard.stop();
 * ```
 */
export function registrationGuard(
  store: ClientStore,
  registry: Pick<OAuthClientRegistry, "purgeClients">,
  accountId: string,
  limits: RegistrationLimits,
  log: (line: string) => void,
): RegistrationGuard {
  const addresses = new AsyncLocalStorage<string | undefined>();
  const rateLimit =
    limits.rateLimit > 0
      ? createStoreRateLimiter(store, {
          limit: limits.rateLimit,
          windowSeconds: HOUR_S,
          // No address (a closed socket): one shared bucket rather than no limit.
          bucket: () => addressBucket(addresses.getStore()) ?? "unknown",
        })
      : undefined;
  const clientLimit = limits.maxClients > 0 ? createRegistrationClientLimit(store, { maxClients: limits.maxClients }) : undefined;
  const purge =
    limits.idleDays > 0
      ? scheduleIdlePurge(registry, {
          accountId,
          idleForMs: limits.idleDays * DAY_MS,
          onPurged: (deleted) => log(`registration: purged ${deleted.length} client(s) unused for ${limits.idleDays} days`),
          onError: (error) => log(`registration: the purge of idle clients failed (tried again in an hour): ${error instanceof Error ? error.message : String(error)}`),
        })
      : undefined;
  const parts = [
    rateLimit ? `${limits.rateLimit} requests per client address per hour (kept in the database)` : "no rate limit",
    clientLimit ? `at most ${limits.maxClients} clients` : "no client cap",
    purge ? `clients unused for ${limits.idleDays} days purged hourly` : "no purge",
  ];
  return {
    ...(rateLimit ? { rateLimit } : {}),
    ...(clientLimit ? { clientLimit } : {}),
    wrap: (listener) => ((request: IncomingMessage, response: ServerResponse) => addresses.run(request.socket?.remoteAddress, () => listener(request, response))) as typeof listener,
    description: parts.join(", "),
    stop: async () => purge?.stop(),
  };
}
