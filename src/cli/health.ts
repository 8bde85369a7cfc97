/**
 * The operational endpoints of `serve`, outside the API prefix and without
 * credentials: `GET /healthz` (the process is serving), `GET /readyz` (the
 * database answers) and, with `--metrics`, `GET /metrics` (Prometheus).
 * They match the raw request path exactly, so no spelling of another path
 * (`/client/v4/../healthz`, `/%68ealthz`, `//healthz`) reaches them, and
 * they answer nothing but a status word or the metrics.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ClientStore } from "../model/store.js";
import { rawRequestPath } from "../http/path.js";
import type { Listener } from "./access-log.js";
import type { ServeMetrics } from "./metrics.js";

/** Paths of the operational endpoints. */
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";
export const METRICS_PATH = "/metrics";

/** Longest a readiness query may take before the database counts as unavailable. */
const READY_DEADLINE_MS = 5000;

/** What the operational endpoints need. */
export interface OperationsOptions {
  /** Resolves true when storage answers; see {@link storageReadiness}. */
  ready(): Promise<boolean>;
  /** The metrics served at `/metrics`, or null when metrics are off (then `/metrics` is an API 404). */
  metrics: ServeMetrics | null;
}

/**
 * The operational paths served with these options (for route labels).
 *
 * @example
 * ```ts
 * operationsPaths({ ready: storageReadiness(store), metrics: null }); // ["/healthz", "/readyz"]
 * ```
 */
export function operationsPaths(options: OperationsOptions): string[] {
  return options.metrics === null ? [HEALTH_PATH, READY_PATH] : [HEALTH_PATH, READY_PATH, METRICS_PATH];
}

/**
 * A readiness check on a store: one lookup of an id no client has (an
 * indexed read), which must answer within a few seconds. Never throws; a
 * failure is reported once per transition to `onChange`.
 *
 * @example
 * ```ts
 * const ready = storageReadiness(store, (up, why) => console.error(up ? "storage back" : `storage unavailable: ${why}`));
 * await ready(); // true
 * ```
 */
export function storageReadiness(store: ClientStore, onChange: (ready: boolean, reason: string) => void = () => undefined): () => Promise<boolean> {
  let last = true;
  const settle = (ready: boolean, reason: string) => {
    if (ready !== last) {
      last = ready;
      try {
        onChange(ready, reason);
      } catch {
        // A failing logger must not fail the probe.
      }
    }
    return ready;
  };
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READY_DEADLINE_MS} ms`)), READY_DEADLINE_MS);
      timer.unref();
    });
    try {
      await Promise.race([store.getById("0".repeat(32)), deadline]);
      return settle(true, "");
    } catch (error) {
      return settle(false, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The answer of an operational endpoint to a request, or null when the path
 * is not one of them (the API handles it). Matches `rawPath` exactly.
 *
 * @example
 * ```ts
 * const answer = await operationsAnswer("GET", "/healthz", { ready: storageReadiness(store), metrics: null });
 * answer?.status; // 200
 * ```
 */
export async function operationsAnswer(method: string, rawPath: string, options: OperationsOptions): Promise<Response | null> {
  if (!operationsPaths(options).includes(rawPath)) return null;
  if (method !== "GET" && method !== "HEAD") {
    return json(405, { status: "method not allowed" }, { allow: "GET, HEAD" });
  }
  if (rawPath === HEALTH_PATH) return json(200, { status: "ok" });
  if (rawPath === READY_PATH) return (await options.ready()) ? json(200, { status: "ok" }) : json(503, { status: "unavailable" });
  const metrics = options.metrics!;
  return new Response(await metrics.registry.metrics(), {
    status: 200,
    headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store", "x-content-type-options": "nosniff" },
  });
}

function json(status: number, body: { status: string }, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

/**
 * Puts the operational endpoints in front of a listener: their exact paths
 * are answered here, every other request goes on to `listener`.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createNodeRequestListener } from "oauth-client-registry/http";
 *
 * createServer(withOperations(createNodeRequestListener(handler), { ready: storageReadiness(store), metrics: null }));
 * ```
 */
export function withOperations(listener: Listener, options: OperationsOptions): Listener {
  return async (request: IncomingMessage, response: ServerResponse) => {
    let answer: Response | null;
    try {
      answer = await operationsAnswer(request.method ?? "", rawRequestPath(request.url ?? ""), options);
    } catch {
      answer = json(500, { status: "error" });
    }
    if (answer === null) return listener(request, response);
    const body = Buffer.from(await answer.arrayBuffer());
    const headers: Record<string, string | number> = Object.fromEntries(answer.headers);
    headers["content-length"] = body.byteLength;
    response.writeHead(answer.status, headers);
    // Node sends no body in answer to HEAD.
    response.end(body);
  };
}
