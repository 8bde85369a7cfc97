/**
 * A minimal authorization server on node:http: /authorize and /token from
 * `@node-oauth/oauth2-server`, clients from oauth-client-registry. The
 * authorization endpoint approves every request for one fixed test user, so
 * it is for tests and demos, not production.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OAuth2Server from "@node-oauth/oauth2-server";
import type { OAuthClientRegistry } from "../../src/index.js";
import { createGrantStore, createModels, type ExampleUser, type GrantStore, type PresentedAuthMethod } from "./model.js";

/** Options of {@link createTokenEndpointHandler}. */
export interface TokenEndpointOptions {
  registry: OAuthClientRegistry;
  /** The issuer URL (no trailing slash); a function when it is known only after listening. */
  issuer: string | (() => string);
  /** The user every authorization request is approved for. Default `{ id: "test-user" }`. */
  user?: ExampleUser;
  /** Codes and tokens. Default: a fresh in-memory store. */
  grants?: GrantStore;
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenLifetime?: number;
}

const MAX_BODY_BYTES = 16 * 1024;

/** An error answered directly (never by redirect): the client or redirect URI is not trusted yet. */
class DirectError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": "application/json;charset=UTF-8",
    "cache-control": "no-store",
    pragma: "no-cache",
    ...headers,
  });
  res.end(JSON.stringify(body));
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** Parameters of a query string or form body; RFC 6749 §3.1 forbids repeating one. */
function singleValued(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name)) throw new DirectError(400, "invalid_request", `parameter ${name} is repeated`);
    out[name] = value;
  }
  return out;
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new DirectError(413, "invalid_request", "request body too large");
    chunks.push(chunk);
  }
  return singleValued(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

/**
 * Works out how the client authenticates and normalizes Basic credentials.
 * RFC 6749 §2.3.1 has the client form-encode its id and secret before
 * base64, and oauth2-server does not decode them; so the header is rewritten
 * with the decoded values, or a secret with a space or a `%` (possible for an
 * imported client) would never match.
 */
function clientAuthentication(headers: Record<string, string>, body: Record<string, string>): PresentedAuthMethod {
  const authorization = headers.authorization;
  const basic = authorization !== undefined && /^basic /i.test(authorization);
  if (basic && body.client_secret !== undefined) {
    // RFC 6749 §2.3: one authentication method per request.
    throw new DirectError(400, "invalid_request", "use either HTTP Basic or client_secret in the body, not both");
  }
  if (basic) {
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new DirectError(401, "invalid_client", "malformed Basic credentials");
    let id: string;
    let secret: string;
    try {
      id = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch {
      throw new DirectError(401, "invalid_client", "malformed Basic credentials");
    }
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`, "utf8").toString("base64")}`;
    return "client_secret_basic";
  }
  if (authorization !== undefined) throw new DirectError(401, "invalid_client", "unsupported authorization scheme");
  return body.client_secret !== undefined ? "client_secret_post" : "none";
}

function oauthErrorBody(error: OAuth2Server.OAuthError): { error: string; error_description: string } {
  // A server_error wraps an internal exception; its message is for logs, not for clients.
  const description = error instanceof OAuth2Server.ServerError ? "internal error" : error.message;
  return { error: error.name, error_description: description };
}

/**
 * A node:http request listener serving:
 * - `GET /.well-known/oauth-authorization-server` (RFC 8414 metadata),
 * - `GET /authorize` — requires redirect_uri, PKCE S256 and state; approves
 *   for the configured user and redirects with `code`, `state` and `iss`,
 * - `POST /token` — authorization_code and refresh_token grants, with
 *   client_secret_basic, client_secret_post or none (public clients).
 *
 * @example
 * const registry = createOAuthClientRegistry(createMemoryStore());
 * const server = createServer(createTokenEndpointHandler({ registry, issuer: "http://127.0.0.1:3000" }));
 * server.listen(3000, "127.0.0.1");
 */
export function createTokenEndpointHandler(
  options: TokenEndpointOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const issuer = typeof options.issuer === "string" ? () => options.issuer as string : options.issuer;
  const user: ExampleUser = options.user ?? { id: "test-user" };
  const models = createModels(options.registry, options.grants ?? createGrantStore());
  const lifetimes = { accessTokenLifetime: options.accessTokenLifetime ?? 3600 };
  const authorizeServer = new OAuth2Server({ model: models.authorize, ...lifetimes });

  function metadata() {
    const base = issuer();
    return {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /** Adds `iss` to an authorization response (RFC 9207), so clients can detect mix-up attacks. */
  function withIssuer(location: string): string {
    const url = new URL(location);
    url.searchParams.set("iss", issuer());
    return url.toString();
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, query: Record<string, string>): Promise<void> {
    // oauth2-server would fall back to the first registered URI; being explicit
    // keeps the code bound to the URI the client really asked for.
    if (!query.redirect_uri) throw new DirectError(400, "invalid_request", "redirect_uri is required");
    const request = new OAuth2Server.Request({ method: "GET", headers: flatHeaders(req), query, body: {} });
    const response = new OAuth2Server.Response();
    try {
      await authorizeServer.authorize(request, response, { authenticateHandler: { handle: () => user } });
    } catch (error) {
      // Until the client and its redirect URI are validated, errors must not redirect.
      const location = response.get("location") as string | undefined;
      if (location === undefined) {
        const body = error instanceof OAuth2Server.OAuthError ? oauthErrorBody(error) : { error: "server_error" };
        sendJson(res, 400, body);
        return;
      }
    }
    res.writeHead(302, { location: withIssuer(response.get("location") as string), "cache-control": "no-store" });
    res.end();
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = req.headers["content-type"] ?? "";
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
      throw new DirectError(400, "invalid_request", "content-type must be application/x-www-form-urlencoded");
    }
    const body = await readForm(req);
    const headers = flatHeaders(req);
    const presented = clientAuthentication(headers, body);
    const oauth = new OAuth2Server({
      model: models.token(presented),
      ...lifetimes,
      // Public clients refresh without a secret; getClient still refuses a
      // confidential client that sends none.
      requireClientAuthentication: { refresh_token: false },
    });
    const request = new OAuth2Server.Request({ method: "POST", headers, query: {}, body });
    const response = new OAuth2Server.Response();
    try {
      await oauth.token(request, response);
      sendJson(res, response.status ?? 200, response.body);
    } catch (error) {
      if (!(error instanceof OAuth2Server.OAuthError)) throw error;
      const extra: Record<string, string> = {};
      const challenge = response.get("www-authenticate") as string | undefined;
      if (challenge) extra["www-authenticate"] = challenge;
      sendJson(res, error.code, oauthErrorBody(error), extra);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const endpoint = `${req.method} ${url.pathname}`;
    if (endpoint === "GET /.well-known/oauth-authorization-server") return sendJson(res, 200, metadata());
    if (endpoint === "GET /authorize") return authorize(req, res, singleValued(url.searchParams));
    if (endpoint === "POST /token") return token(req, res);
    sendJson(res, 404, { error: "not_found" });
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof DirectError) {
        const extra: Record<string, string> = error.status === 401 ? { "www-authenticate": 'Basic realm="token"' } : {};
        sendJson(res, error.status, { error: error.error, error_description: error.message }, extra);
        return;
      }
      sendJson(res, 500, { error: "server_error", error_description: "internal error" });
    });
  };
}

/** A running example server. */
export interface RunningTokenEndpoint {
  server: Server;
  /** `http://<host>:<port>` — also the issuer identifier. */
  issuer: string;
  close(): Promise<void>;
}

/**
 * Starts the example server; port 0 picks a free port.
 *
 * @example
 * const endpoint = await startTokenEndpoint({ registry, port: 0 });
 * console.log(`${endpoint.issuer}/.well-known/oauth-authorization-server`);
 * await endpoint.close();
 */
export async function startTokenEndpoint(
  options: Omit<TokenEndpointOptions, "issuer"> & { host?: string; port?: number },
): Promise<RunningTokenEndpoint> {
  const host = options.host ?? "127.0.0.1";
  let issuer = "";
  const server = createServer(createTokenEndpointHandler({ ...options, issuer: () => issuer }));
  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    server,
    issuer,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
