/**
 * What `serve` records about each finished request, for the access log and
 * the metrics: the raw path as sent, the route template it matched (a
 * bounded set, never the raw path), the status and the duration. Never
 * headers, bodies or query strings.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { rawRequestPath } from "../http/path.js";
import { matchRoute } from "../http/routes.js";

/** Access-log line formats: `text` (the default) or `json` (one object per line). */
export type LogFormat = "text" | "json";

/** The access-log formats `--log-format` accepts. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** One request once its response is done (or cut short). */
export interface FinishedRequest {
  /** RFC 3339 UTC time the response finished. */
  time: string;
  method: string;
  /** The path exactly as the client sent it, without the query; bytes outside printable ASCII percent-escaped. */
  path: string;
  /** The route template the path matched (`/client/v4/accounts/{account_id}/oauth_clients`), or null. */
  route: string | null;
  /** The status sent, or null when the response was cut short (the client left, a timeout). */
  status: number | null;
  /** Time from the request's arrival to the end of its response, in milliseconds. */
  durationMs: number;
}

/**
 * The route template a raw request path matches: one of the API routes
 * under `basePath`, one of `exactPaths` (the operational endpoints), or
 * null. The result comes from a fixed set, so it is safe as a metric label.
 *
 * @example
 * ```ts
 * routeTemplate("/client/v4/accounts/a1/oauth_clients/x", "/client/v4", []); // "/client/v4/accounts/{account_id}/oauth_clients/{oauth_client_id}"
 * routeTemplate("/healthz", "/client/v4", ["/healthz"]); // "/healthz"
 * ```
 */
export function routeTemplate(rawPath: string, basePath: string, exactPaths: readonly string[]): string | null {
  if (exactPaths.includes(rawPath)) return rawPath;
  if (!rawPath.startsWith(`${basePath}/`)) return null;
  let rest = rawPath.slice(basePath.length + 1);
  if (rest.length > 0 && rest.endsWith("/")) rest = rest.slice(0, -1);
  let segments: string[];
  try {
    segments = rest.split("/").map((segment) => decodeURIComponent(segment));
  } catch {
    return null;
  }
  const match = matchRoute(segments);
  return match === null ? null : `${basePath}/${match.route.template.join("/")}`;
}

/**
 * Formats one access-log line. `text`:
 * `2025-01-31T10:00:00.000Z GET /client/v4/oauth/scopes 200 4.2ms` (`aborted`
 * in place of a status cut short). `json`: one object per line with `time`,
 * `method`, `path`, `route`, `status` (null when cut short), `aborted` and
 * `duration_ms`.
 *
 * @example
 * ```ts
 * formatAccessLine({ time: "2025-01-31T10:00:00.000Z", method: "GET", path: "/healthz", route: "/healthz", status: 200, durationMs: 0.42 }, "json");
 * // {"time":"2025-01-31T10:00:00.000Z","method":"GET","path":"/healthz","route":"/healthz","status":200,"aborted":false,"duration_ms":0.4}
 * ```
 */
export function formatAccessLine(entry: FinishedRequest, format: LogFormat): string {
  const ms = Math.round(entry.durationMs * 10) / 10;
  if (format === "json") {
    return JSON.stringify({
      time: entry.time,
      method: entry.method,
      path: entry.path,
      route: entry.route,
      status: entry.status,
      aborted: entry.status === null,
      duration_ms: ms,
    });
  }
  return `${entry.time} ${entry.method} ${entry.path} ${entry.status ?? "aborted"} ${ms.toFixed(1)}ms`;
}

/** A node:http listener, as `serve` composes them. */
export type Listener = (request: IncomingMessage, response: ServerResponse) => unknown;

/**
 * Wraps a listener so that `onFinished` hears about every request once its
 * response is done. The path is taken from the raw request target, before
 * any URL parser could normalize it, so a refused `/a/%2e%2e/b` is recorded
 * as sent; bytes outside printable ASCII (which Node's parser refuses
 * anyway) are percent-escaped so that a log line stays one line.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createNodeRequestListener } from "oauth-client-registry/http";
 *
 * const listener = observeRequests(
 *   createNodeRequestListener(handler),
 *   (rawPath) => routeTemplate(rawPath, "/client/v4", ["/healthz"]),
 *   (done) => console.log(formatAccessLine(done, "json")),
 * );
 * createServer(listener);
 * ```
 */
export function observeRequests(
  listener: Listener,
  describeRoute: (rawPath: string) => string | null,
  onFinished: (request: FinishedRequest) => void,
): Listener {
  return (request, response) => {
    const started = performance.now();
    const method = request.method ?? "-";
    const raw = rawRequestPath(request.url ?? "");
    const path = raw.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
    response.once("close", () => {
      onFinished({
        time: new Date().toISOString(),
        method,
        path,
        route: describeRoute(raw),
        status: response.writableFinished ? response.statusCode : null,
        durationMs: performance.now() - started,
      });
    });
    return listener(request, response);
  };
}
