/**
 * The operator console: a Fetch handler serving the console's page, script
 * and stylesheet. The page talks to the v4 API of the same origin with the
 * operator's credentials; this handler itself holds no state and no secret.
 * Strings only (no file reads, no `node:` import), so it loads on every runtime.
 */
import { CONSOLE_ASSETS, CONSOLE_PAGE } from "./assets.generated.js";

/** Options of {@link createConsoleHandler}. */
export interface ConsoleHandlerOptions {
  /**
   * Path the console is served at, ending with a slash. Default `"/"`.
   * A request for the path without its slash is redirected to it.
   */
  basePath?: string;
  /** Path of the v4 API on the same origin, as given to `createFetchHandler`. Default `"/client/v4"`. */
  apiBasePath?: string;
}

/**
 * The page's policy: its own script and stylesheet only, calls to its own
 * origin only, no inline script or eval, no framing, and images from nowhere
 * else (a client's `logo_uri` is shown as a link, never loaded).
 */
export const CONSOLE_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONSOLE_CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** The characters that end or open an attribute value, as entities. */
function attributeText(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function pathOption(name: string, value: string, trailingSlash: boolean): string {
  if (!value.startsWith("/") || /[?#\s]/.test(value) || (trailingSlash && !value.endsWith("/"))) {
    throw new TypeError(`${name} must be an absolute path${trailingSlash ? " ending with /" : ""}, got ${JSON.stringify(value)}`);
  }
  return trailingSlash ? value : value.replace(/\/+$/, "");
}

/**
 * A Fetch handler serving the operator console: `GET basePath` answers the
 * page, `GET basePath + "assets/…"` its script and stylesheet (content-hashed
 * names, cached for a year); every answer carries a strict
 * Content-Security-Policy. Other paths answer 404 and other methods 405, so
 * the handler can sit in front of or beside the API handler.
 *
 * @example
 * ```ts
 * import { createFetchHandler } from "oauth-client-registry/http";
 * import { createConsoleHandler } from "oauth-client-registry/console";
 *
 * declare const api: ReturnType<typeof createFetchHandler>;
 * const consoleHandler = createConsoleHandler({ basePath: "/", apiBasePath: "/client/v4" });
 * const handle = (request: Request): Promise<Response> =>
 *   new URL(request.url).pathname.startsWith("/client/v4/") ? api(request) : consoleHandler(request);
 * ```
 */
export function createConsoleHandler(options: ConsoleHandlerOptions = {}): (request: Request) => Promise<Response> {
  const basePath = pathOption("basePath", options.basePath ?? "/", true);
  const apiBasePath = pathOption("apiBasePath", options.apiBasePath ?? "/client/v4", false);
  const page = CONSOLE_PAGE.replace("%API_BASE%", attributeText(apiBasePath));
  const answer = (status: number, body: string | null, headers: Record<string, string>): Response =>
    new Response(body, { status, headers: { ...SECURITY_HEADERS, ...headers } });

  return async (request) => {
    const { pathname } = new URL(request.url);
    const isPage = pathname === basePath || pathname === `${basePath}index.html`;
    const asset = pathname.startsWith(basePath) ? CONSOLE_ASSETS[pathname.slice(basePath.length)] : undefined;
    if (!isPage && asset === undefined) {
      if (`${pathname}/` === basePath) return answer(308, null, { location: basePath });
      return answer(404, "Not found\n", { "content-type": "text/plain; charset=utf-8" });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return answer(405, "Method not allowed\n", { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    }
    const body = request.method === "HEAD" ? null : isPage ? page : asset!.body;
    return isPage
      ? answer(200, body, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" })
      : answer(200, body, { "content-type": asset!.type, "cache-control": "public, max-age=31536000, immutable" });
  };
}
