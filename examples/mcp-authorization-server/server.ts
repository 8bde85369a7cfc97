/**
 * An MCP-ready authorization server in one process, as a Fetch handler:
 * RFC 8414 metadata, `/authorize` and `/token` (authorization.ts), and a
 * protected MCP endpoint with its RFC 9728 metadata (resource.ts). Clients
 * come from oauth-client-registry.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeRequestListener } from "../../src/http/index.js";
import { OAuthClientError, type OAuthClientRegistry } from "../../src/index.js";
import { createRegistrationHandler, registrationMetadata, type RegistrationHandlerOptions } from "../../src/registration/index.js";
import {
  createAuthorizationEndpoints,
  createGrantStore,
  jsonResponse,
  OAuthEndpointError,
  oauthErrorResponse,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type GrantStore,
} from "./authorization.js";
import { createMcpResource } from "./resource.js";

/** Options of {@link createMcpAuthorizationServer}. */
export interface McpAuthorizationServerOptions {
  registry: OAuthClientRegistry;
  /** The issuer URL (no trailing slash); a function when it is known only after listening. */
  issuer: string | (() => string);
  /** Scopes the MCP endpoint requires, advertised in both metadata documents. Default `[]`. */
  scopes?: readonly string[];
  /** The user every authorization request is approved for. Default `"demo-user"`. */
  userId?: string;
  /** Codes and tokens. Default: a fresh in-memory store. */
  grants?: GrantStore;
  /** Clock for codes and tokens. Default `Date.now`. */
  now?: () => number;
  /**
   * Dynamic client registration at `/register` (RFC 7591, and RFC 7592 at
   * `/register/<client_id>`): where registered clients land and the
   * registration policy. Absent: no registration endpoint.
   */
  registration?: Omit<RegistrationHandlerOptions, "path" | "baseUrl">;
  /**
   * Advertise `client_id_metadata_document_supported`: set it when the
   * registry was created with its `clientIdMetadataDocuments` option.
   */
  clientIdMetadataDocuments?: boolean;
}

/** The well-known path of the MCP endpoint's metadata (RFC 9728 §3.1: inserted before the resource path). */
const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/mcp";

/**
 * The whole example server as one Fetch handler:
 *
 * | route | what |
 * | --- | --- |
 * | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata |
 * | `GET /authorize`, `POST /token` | code + PKCE, every client through the registry |
 * | `GET /.well-known/oauth-protected-resource/mcp` | RFC 9728 metadata of the MCP endpoint |
 * | `/mcp` | the MCP server, bearer tokens from this server only |
 *
 * @example
 * const handler = createMcpAuthorizationServer({ registry, issuer: "https://as.example", scopes: ["notes.read"] });
 * const response = await handler(new Request("https://as.example/.well-known/oauth-authorization-server"));
 */
export function createMcpAuthorizationServer(options: McpAuthorizationServerOptions): (request: Request) => Promise<Response> {
  const issuerOption = options.issuer;
  const issuer = typeof issuerOption === "string" ? () => issuerOption : issuerOption;
  const scopes = options.scopes ?? [];
  const grants = options.grants ?? createGrantStore();
  const resourceUrl = () => `${issuer()}/mcp`;
  const endpoints = createAuthorizationEndpoints({
    registry: options.registry,
    issuer,
    grants,
    userId: options.userId ?? "demo-user",
    resources: () => [resourceUrl()],
    ...(options.now ? { now: options.now } : {}),
  });
  const mcp = createMcpResource({
    resource: resourceUrl,
    metadataUrl: () => `${issuer()}${RESOURCE_METADATA_PATH}`,
    issuer,
    grants,
    scopes,
    ...(options.now ? { now: options.now } : {}),
  });

  // registration_client_uri is built on the issuer; one known only after listening is the request's own origin.
  const registration = options.registration
    ? createRegistrationHandler(options.registry, {
        ...options.registration,
        path: "/register",
        ...(typeof issuerOption === "string" ? { baseUrl: issuerOption } : {}),
      })
    : null;

  function metadata(): Response {
    const base = issuer();
    const registrationMembers = registrationMetadata({
      issuer: base,
      clientIdMetadataDocumentSupported: options.clientIdMetadataDocuments ?? false,
      tokenEndpointAuthMethods: TOKEN_ENDPOINT_AUTH_METHODS,
    });
    // Without a registration handler, only the members that describe the token endpoint apply.
    const { registration_endpoint: registrationEndpoint, ...tokenEndpointMembers } = registrationMembers;
    return jsonResponse(200, {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: [...scopes],
      authorization_response_iss_parameter_supported: true,
      ...tokenEndpointMembers,
      ...(registration ? { registration_endpoint: registrationEndpoint } : {}),
    });
  }

  async function route(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    const endpoint = `${request.method} ${pathname}`;
    if (endpoint === "GET /.well-known/oauth-authorization-server") return metadata();
    if (endpoint === `GET ${RESOURCE_METADATA_PATH}`) return mcp.metadata();
    if (endpoint === "GET /authorize") return endpoints.authorize(request);
    if (endpoint === "POST /token") return endpoints.token(request);
    if (pathname === "/mcp") return mcp.handle(request);
    if (registration && (pathname === "/register" || pathname.startsWith("/register/"))) return registration(request);
    return jsonResponse(404, { error: "not_found" });
  }

  return async (request) => {
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof OAuthEndpointError) return oauthErrorResponse(error);
      // The registry's store is down or overloaded: say so and let the client retry (RFC 6749 §4.1.2.1).
      if (error instanceof OAuthClientError && error.status === 503) {
        return oauthErrorResponse(new OAuthEndpointError(503, "temporarily_unavailable", "the client registry is unavailable; retry later"));
      }
      throw error;
    }
  };
}

/** A running example server. */
export interface RunningMcpAuthorizationServer {
  server: Server;
  /** `http://<host>:<port>`: the issuer, and the origin of the MCP endpoint. */
  issuer: string;
  /** The MCP endpoint, `<issuer>/mcp`. */
  mcpUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the example server on node:http; port 0 picks a free port.
 *
 * @example
 * const running = await startMcpAuthorizationServer({ registry, scopes: ["notes.read"], port: 0 });
 * console.log(running.mcpUrl);
 * await running.close();
 */
export async function startMcpAuthorizationServer(
  options: Omit<McpAuthorizationServerOptions, "issuer"> & { host?: string; port?: number },
): Promise<RunningMcpAuthorizationServer> {
  const host = options.host ?? "127.0.0.1";
  let issuer = "";
  const handler = createMcpAuthorizationServer({ ...options, issuer: () => issuer });
  const server = createServer(createNodeRequestListener(handler));
  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    server,
    issuer,
    mcpUrl: `${issuer}/mcp`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
