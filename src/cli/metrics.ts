/**
 * Prometheus metrics of `serve` (`--metrics`), on a prom-client registry of
 * their own so that an embedding application's default registry is never
 * touched. Every label comes from a fixed set: route templates, never raw
 * paths; no account or client ids.
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { RegistryEvent } from "../model/events.js";
import type { FinishedRequest } from "./access-log.js";

/** Methods counted by name; any other is counted as `other`. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Outcome labels of an authentication at the token endpoint. */
export type AuthenticationOutcome = "success" | "unknown_client" | "invalid_secret" | "no_secret" | "secret_expired" | "invalid_assertion";

/** The metrics `serve` exposes, and the hooks that feed them. */
export interface ServeMetrics {
  /** The prom-client registry holding these metrics (never the global default). */
  registry: Registry;
  /** Counts a finished request and observes its duration. */
  observeRequest(request: FinishedRequest): void;
  /**
   * A registry `onEvent` listener: counts `client.authenticated` (by matched
   * secret) and `client.authentication_failed` (by reason); ignores the rest.
   */
  onRegistryEvent(event: RegistryEvent): void;
}

/**
 * Creates the metrics of `serve` on a new prom-client registry:
 *
 * - `oauth_registry_http_requests_total{method, route, status}`
 * - `oauth_registry_http_request_duration_seconds{method, route}` (histogram)
 * - `oauth_registry_client_authentications_total{outcome, secret}`: outcome
 *   `success`, `unknown_client`, `invalid_secret`, `no_secret`,
 *   `secret_expired` or `invalid_assertion`; secret `current`, `rotated`,
 *   `private_key_jwt` or `none`. While `secret="rotated"` stops growing,
 *   no client still uses its previous secret and it can be deleted.
 *
 * `route` is a route template (`/client/v4/accounts/{account_id}/oauth_clients`,
 * `/healthz`) or `unmatched`; `status` is the status code or `aborted`.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 *
 * declare const clientId: string, secret: string;
 * const metrics = createServeMetrics();
 * const registry = createOAuthClientRegistry(store, { onEvent: metrics.onRegistryEvent });
 * await registry.authenticate(clientId, secret);
 * console.log(await metrics.registry.metrics()); // after a success: …client_authentications_total{outcome="success",secret="current"} 1
 * ```
 */
export function createServeMetrics(): ServeMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "oauth_registry_http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "oauth_registry_http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its response, by method and route template.",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const authentications = new Counter({
    name: "oauth_registry_client_authentications_total",
    help: "Client authentications by outcome and by what matched (current or rotated secret, private_key_jwt).",
    labelNames: ["outcome", "secret"] as const,
    registers: [registry],
  });
  // Present at 0 from the start, so that "no rotated secret used yet" is visible.
  authentications.inc({ outcome: "success", secret: "current" }, 0);
  authentications.inc({ outcome: "success", secret: "rotated" }, 0);
  authentications.inc({ outcome: "success", secret: "private_key_jwt" }, 0);
  const failures = ["unknown_client", "invalid_secret", "no_secret", "secret_expired", "invalid_assertion"] as const;
  for (const outcome of failures) authentications.inc({ outcome, secret: "none" }, 0);

  return {
    registry,
    observeRequest(request) {
      const method = METHODS.has(request.method) ? request.method : "other";
      const route = request.route ?? "unmatched";
      requests.inc({ method, route, status: request.status === null ? "aborted" : String(request.status) });
      duration.observe({ method, route }, request.durationMs / 1000);
    },
    onRegistryEvent(event) {
      if (event.type === "client.authenticated") authentications.inc({ outcome: "success", secret: event.matched });
      else if (event.type === "client.authentication_failed") authentications.inc({ outcome: event.reason, secret: "none" });
    },
  };
}
