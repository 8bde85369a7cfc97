/**
 * The authorization and token endpoints of the example MCP authorization
 * server: authorization code with PKCE (S256 only), RFC 8707 resource
 * indicators, and every client resolved through the registry, so
 * operator-created, dynamically registered and Client ID Metadata Document
 * clients are handled by the same code.
 *
 * Codes and access tokens live in memory; `/authorize` approves every request
 * for one fixed user. Fine for tests and demos, not for production.
 */
import { createHash, randomBytes } from "node:crypto";
import { isRedirectUriAllowed, OAuthClientError, type OAuthClient, type OAuthClientRegistry } from "../../src/index.js";

/** An authorization code waiting to be redeemed. */
interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  resource: string | undefined;
  userId: string;
  expiresAtMs: number;
}

/** What an access token stands for; the protected resource reads it back (see resource.ts). */
export interface IssuedAccessToken {
  clientId: string;
  scopes: string[];
  /** The RFC 8707 resource the token is bound to. */
  resource: string | undefined;
  userId: string;
  expiresAtMs: number;
}

/** Codes and tokens in memory; a real server keeps them in its database. */
export interface GrantStore {
  codes: Map<string, PendingCode>;
  accessTokens: Map<string, IssuedAccessToken>;
}

/**
 * An empty in-memory grant store.
 *
 * @example
 * const grants = createGrantStore();
 * grants.accessTokens.size; // 0
 */
export function createGrantStore(): GrantStore {
  return { codes: new Map(), accessTokens: new Map() };
}

/** The client authentication methods the token endpoint accepts. */
export const TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;
type PresentedMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** RFC 7523 §2.2: the only client assertion type this endpoint accepts. */
const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const CODE_LIFETIME_MS = 60_000;
const MAX_FORM_BYTES = 16 * 1024;
/** RFC 7636 §4.1: 43..128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge is a base64url SHA-256: exactly 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * An OAuth error answered directly, as JSON (RFC 6749 §5.2), never by
 * redirect: before the client and its redirect URI are trusted, a redirect
 * would be an open redirector.
 */
export class OAuthEndpointError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

/** Answers an {@link OAuthEndpointError} as RFC 6749 JSON. */
export function oauthErrorResponse(error: OAuthEndpointError): Response {
  return jsonResponse(error.status, { error: error.error, error_description: error.message }, error.headers);
}

/**
 * A JSON response that is never cached (tokens, errors, metadata alike).
 *
 * @example
 * return jsonResponse(200, { ok: true });
 */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json;charset=UTF-8", "cache-control": "no-store", ...headers },
  });
}

/** Parameters of a query string or form body; RFC 6749 §3.1 forbids repeating one. */
function singleValued(params: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of params) {
    if (out.has(name)) throw new OAuthEndpointError(400, "invalid_request", `parameter ${name} is repeated`);
    out.set(name, value);
  }
  return out;
}

async function readForm(request: Request): Promise<Map<string, string>> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    throw new OAuthEndpointError(400, "invalid_request", "content-type must be application/x-www-form-urlencoded");
  }
  const tooLarge = () => new OAuthEndpointError(413, "invalid_request", "request body too large");
  if (Number(request.headers.get("content-length") ?? "0") > MAX_FORM_BYTES) throw tooLarge();
  // Counted while reading: a chunked body has no length to check up front.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body?.getReader();
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) {
    size += chunk.value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader!.cancel();
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  return singleValued(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
}

function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

function s256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** RFC 8707 §2: an absolute URI without a fragment. */
function isResourceIndicator(value: string): boolean {
  if (!URL.canParse(value)) return false;
  return !value.includes("#");
}

/**
 * A registry error while resolving a client, as the client should see it:
 * an unusable metadata document or a refused id is the client's problem
 * (`invalid_client`, with the registry's explanation); anything else (a
 * storage outage) is the server's and is rethrown (server.ts answers 503).
 */
function clientLookupError(error: unknown, status: number): OAuthEndpointError {
  // The registry's message already names every issue with its pointer into the document.
  if (error instanceof OAuthClientError && error.status < 500) return new OAuthEndpointError(status, "invalid_client", error.message);
  throw error;
}

/** Options of {@link createAuthorizationEndpoints}. */
export interface AuthorizationEndpointsOptions {
  registry: OAuthClientRegistry;
  /** The issuer (no trailing slash); a function when it is known only after listening. */
  issuer: () => string;
  /** Codes and tokens. */
  grants: GrantStore;
  /** The user every authorization request is approved for. */
  userId: string;
  /**
   * Resources (RFC 8707) tokens may be issued for. A request naming another
   * one is refused with `invalid_target`.
   */
  resources: () => readonly string[];
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** Clock for codes and tokens. Default `Date.now`. */
  now?: () => number;
}

/** The two endpoints, as Fetch handlers. */
export interface AuthorizationEndpoints {
  /** `GET /authorize` */
  authorize(request: Request): Promise<Response>;
  /** `POST /token` */
  token(request: Request): Promise<Response>;
}

/**
 * The authorization endpoint and the token endpoint, built on the registry.
 *
 * - `/authorize` resolves the client with `registry.resolveClient` (any id
 *   kind: a Client ID Metadata Document URL is fetched and validated there),
 *   checks the redirect URI with `isRedirectUriAllowed`, requires PKCE S256
 *   and redirects back with `code`, `state` and `iss` (RFC 9207).
 * - `/token` authenticates the client exactly as it registered:
 *   `registry.authenticate` for a secret (Basic or post),
 *   `registry.authenticateAssertion` for `private_key_jwt` (RFC 7523), and
 *   `registry.resolveClient` for a public client; then redeems the code
 *   once, checking the PKCE verifier, redirect URI and resource, and records
 *   the public client's use (`resolveClient(id, { recordUse: true })`).
 *
 * @example
 * const endpoints = createAuthorizationEndpoints({
 *   registry, issuer: () => "https://as.example", grants: createGrantStore(),
 *   userId: "demo-user", resources: () => ["https://as.example/mcp"],
 * });
 * const response = await endpoints.token(request);
 */
export function createAuthorizationEndpoints(options: AuthorizationEndpointsOptions): AuthorizationEndpoints {
  const { registry, grants } = options;
  const now = options.now ?? Date.now;
  const accessTokenLifetime = options.accessTokenLifetimeSeconds ?? 3600;

  function redirectWith(redirectUri: string, params: Record<string, string | undefined>): Response {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
    url.searchParams.set("iss", options.issuer());
    return new Response(null, { status: 302, headers: { location: url.toString(), "cache-control": "no-store" } });
  }

  async function authorize(request: Request): Promise<Response> {
    const query = singleValued(new URL(request.url).searchParams);
    const clientId = query.get("client_id");
    if (!clientId) throw new OAuthEndpointError(400, "invalid_request", "client_id is required");
    let client: OAuthClient | null;
    try {
      client = await registry.resolveClient(clientId);
    } catch (error) {
      throw clientLookupError(error, 400);
    }
    if (!client) throw new OAuthEndpointError(400, "invalid_client", "unknown client");
    // A client may register several redirect URIs; naming one keeps the code bound to it.
    const redirectUri = query.get("redirect_uri");
    if (!redirectUri) throw new OAuthEndpointError(400, "invalid_request", "redirect_uri is required");
    if (!isRedirectUriAllowed(client, redirectUri)) {
      throw new OAuthEndpointError(400, "invalid_request", "redirect_uri is not registered for this client");
    }

    // From here the redirect URI is trusted: errors go back to the client by redirect (RFC 6749 §4.1.2.1).
    const state = query.get("state");
    const fail = (error: string, description: string) =>
      redirectWith(redirectUri, { error, error_description: description, state });

    if (query.get("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
    if (!client.response_types.includes("code")) return fail("unauthorized_client", "the client did not register response type code");
    const challenge = query.get("code_challenge");
    if (!challenge || query.get("code_challenge_method") !== "S256") {
      return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256");
    }
    if (!S256_CHALLENGE.test(challenge)) return fail("invalid_request", "code_challenge is not an S256 challenge");

    const requested = query.get("scope");
    const scopes = requested === undefined ? [...client.scopes] : requested.split(" ").filter((s) => s !== "");
    const refused = scopes.filter((scope) => !client.scopes.includes(scope));
    if (refused.length > 0) return fail("invalid_scope", `not registered for this client: ${refused.join(" ")}`);

    const resource = query.get("resource");
    if (resource !== undefined && (!isResourceIndicator(resource) || !options.resources().includes(resource))) {
      return fail("invalid_target", "unknown resource");
    }

    const code = randomToken();
    grants.codes.set(code, {
      clientId: client.client_id,
      redirectUri,
      codeChallenge: challenge,
      scopes,
      resource,
      userId: options.userId,
      expiresAtMs: now() + CODE_LIFETIME_MS,
    });
    return redirectWith(redirectUri, { code, state });
  }

  /** Which method the request uses; RFC 6749 §2.3 allows one per request. */
  function presentedMethod(request: Request, form: Map<string, string>): PresentedMethod {
    const authorization = request.headers.get("authorization");
    const basic = authorization !== null && /^basic /i.test(authorization);
    const methods: PresentedMethod[] = [];
    if (basic) methods.push("client_secret_basic");
    if (form.has("client_secret")) methods.push("client_secret_post");
    if (form.has("client_assertion") || form.has("client_assertion_type")) methods.push("private_key_jwt");
    if (authorization !== null && !basic) {
      throw new OAuthEndpointError(401, "invalid_client", "unsupported authorization scheme", { "www-authenticate": 'Basic realm="token"' });
    }
    if (methods.length > 1) throw new OAuthEndpointError(400, "invalid_request", "use exactly one client authentication method");
    return methods[0] ?? "none";
  }

  function invalidClient(method: PresentedMethod, description = "client authentication failed"): OAuthEndpointError {
    // RFC 6749 §5.2: a client that tried HTTP authentication gets 401 with a challenge.
    const headers: Record<string, string> = method === "client_secret_basic" ? { "www-authenticate": 'Basic realm="token"' } : {};
    return new OAuthEndpointError(401, "invalid_client", description, headers);
  }

  /** RFC 6749 §2.3.1: id and secret are form-encoded before Base64. */
  function basicCredentials(authorization: string): { id: string; secret: string } {
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw invalidClient("client_secret_basic", "malformed Basic credentials");
    const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, " "));
    try {
      return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      throw invalidClient("client_secret_basic", "malformed Basic credentials");
    }
  }

  async function authenticateClient(request: Request, form: Map<string, string>): Promise<{ client: OAuthClient; method: PresentedMethod }> {
    const method = presentedMethod(request, form);
    const bodyClientId = form.get("client_id");
    let client: OAuthClient | null;
    if (method === "client_secret_basic" || method === "client_secret_post") {
      const { id, secret } =
        method === "client_secret_basic"
          ? basicCredentials(request.headers.get("authorization")!)
          : { id: bodyClientId ?? "", secret: form.get("client_secret")! };
      if (method === "client_secret_basic" && bodyClientId !== undefined && bodyClientId !== id) {
        throw new OAuthEndpointError(400, "invalid_request", "client_id does not match the Basic credentials");
      }
      client = (await registry.authenticate(id, secret))?.client ?? null;
    } else if (method === "private_key_jwt") {
      const assertion = form.get("client_assertion");
      if (form.get("client_assertion_type") !== JWT_BEARER_ASSERTION || !assertion) {
        throw invalidClient(method, `send client_assertion with client_assertion_type=${JWT_BEARER_ASSERTION}`);
      }
      // RFC 7523 §3: the audience is this server; clients use either its issuer or its token endpoint URL.
      const result = await registry.authenticateAssertion(assertion, {
        audience: [options.issuer(), `${options.issuer()}/token`],
        ...(bodyClientId !== undefined ? { clientId: bodyClientId } : {}),
      });
      client = result?.client ?? null;
    } else {
      if (!bodyClientId) throw invalidClient(method, "client_id is required");
      try {
        client = await registry.resolveClient(bodyClientId);
      } catch (error) {
        throw clientLookupError(error, 401);
      }
    }
    // The client authenticates the way it registered (RFC 7591 §2): a confidential client sending no secret is refused.
    if (!client || client.token_endpoint_auth_method !== method) throw invalidClient(method);
    return { client, method };
  }

  async function token(request: Request): Promise<Response> {
    const form = await readForm(request);
    const { client, method } = await authenticateClient(request, form);
    const grantType = form.get("grant_type");
    if (grantType !== "authorization_code") {
      throw new OAuthEndpointError(400, "unsupported_grant_type", "this server issues tokens for authorization codes only");
    }
    const code = form.get("code") ?? "";
    const pending = grants.codes.get(code);
    // A code is single-use: redeeming it removes it, whatever the outcome.
    grants.codes.delete(code);
    if (!pending || pending.expiresAtMs <= now() || pending.clientId !== client.client_id) {
      throw new OAuthEndpointError(400, "invalid_grant", "the code is invalid, expired, used or issued to another client");
    }
    if (form.get("redirect_uri") !== pending.redirectUri) {
      throw new OAuthEndpointError(400, "invalid_grant", "redirect_uri differs from the authorization request");
    }
    const verifier = form.get("code_verifier") ?? "";
    if (!CODE_VERIFIER.test(verifier) || s256(verifier) !== pending.codeChallenge) {
      throw new OAuthEndpointError(400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
    const resource = form.get("resource") ?? pending.resource;
    if (resource !== pending.resource) {
      throw new OAuthEndpointError(400, "invalid_target", "resource differs from the authorization request");
    }

    if (method === "none") {
      // The registry records secret and assertion authentications itself. A public client proves nothing,
      // so its use is recorded only once it redeemed a code: a bare client_id must not keep a dead client alive.
      try {
        await registry.resolveClient(client.client_id, { recordUse: true });
      } catch (error) {
        throw clientLookupError(error, 401);
      }
    }
    const accessToken = randomToken();
    grants.accessTokens.set(accessToken, {
      clientId: client.client_id,
      scopes: pending.scopes,
      resource,
      userId: pending.userId,
      expiresAtMs: now() + accessTokenLifetime * 1000,
    });
    return jsonResponse(200, {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: accessTokenLifetime,
      scope: pending.scopes.join(" "),
    });
  }

  return { authorize, token };
}
