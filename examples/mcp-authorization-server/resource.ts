/**
 * The protected resource of the example: a tiny MCP server (Streamable HTTP,
 * stateless) behind a bearer-token check, and its RFC 9728 Protected
 * Resource Metadata, which is how an MCP client finds the authorization
 * server.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { jsonResponse, type GrantStore } from "./authorization.js";

/** Options of {@link createMcpResource}. */
export interface McpResourceOptions {
  /** The resource identifier (RFC 8707), also the URL the MCP endpoint answers at. */
  resource: () => string;
  /** The URL of this resource's RFC 9728 metadata document. */
  metadataUrl: () => string;
  /** The authorization server that issues tokens for this resource. */
  issuer: () => string;
  /** Where the authorization server keeps the tokens it issued. */
  grants: GrantStore;
  /** Scopes a token needs for this resource; also advertised in the metadata. */
  scopes: readonly string[];
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

/** The resource's two routes, as Fetch handlers. */
export interface McpResource {
  /** `GET <metadataUrl>`: RFC 9728 Protected Resource Metadata. */
  metadata(): Response;
  /** `POST|GET|DELETE <resource>`: the MCP endpoint, for valid bearer tokens only. */
  handle(request: Request): Promise<Response>;
}

/**
 * The MCP server itself: one tool, `whoami`, that answers with what the
 * access token says about its caller, so a client can see whom the server
 * believes it is talking to.
 */
function buildMcpServer(): McpServer {
  const server = new McpServer({ name: "oauth-client-registry-example", version: "1.0.0" });
  server.registerTool(
    "whoami",
    { description: "The client and scopes of the access token this call was made with." },
    (extra) => {
      const auth = extra.authInfo;
      const caller = { client_id: auth?.clientId ?? null, scopes: auth?.scopes ?? [], user: auth?.extra?.user ?? null };
      return { content: [{ type: "text", text: JSON.stringify(caller) }] };
    },
  );
  return server;
}

/**
 * A protected MCP resource whose tokens come from the example authorization
 * server.
 *
 * A request without a valid token gets 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1), which
 * starts the MCP client's authorization. A token is valid when it exists,
 * has not expired, was issued for this resource (RFC 8707 audience) and
 * carries the required scopes.
 *
 * @example
 * const mcp = createMcpResource({
 *   resource: () => "https://as.example/mcp", metadataUrl: () => "https://as.example/.well-known/oauth-protected-resource/mcp",
 *   issuer: () => "https://as.example", grants, scopes: ["notes.read"],
 * });
 * const response = await mcp.handle(request);
 */
export function createMcpResource(options: McpResourceOptions): McpResource {
  const now = options.now ?? Date.now;

  function challenge(status: number, error?: { code: string; description: string }): Response {
    const params = [`resource_metadata="${options.metadataUrl()}"`];
    if (options.scopes.length > 0) params.push(`scope="${options.scopes.join(" ")}"`);
    if (error) params.push(`error="${error.code}"`, `error_description="${error.description}"`);
    const body = error ? { error: error.code, error_description: error.description } : { error: "unauthorized" };
    return jsonResponse(status, body, { "www-authenticate": `Bearer ${params.join(", ")}` });
  }

  function authenticate(request: Request): AuthInfo | Response {
    const header = request.headers.get("authorization");
    const match = header === null ? null : /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) return challenge(401);
    const token = match[1]!;
    const issued = options.grants.accessTokens.get(token);
    if (!issued || issued.expiresAtMs <= now()) {
      return challenge(401, { code: "invalid_token", description: "the access token is unknown or expired" });
    }
    // A token issued for another resource must not be replayed here (RFC 8707, MCP authorization §token audience).
    if (issued.resource !== options.resource()) {
      return challenge(401, { code: "invalid_token", description: "the access token was not issued for this resource" });
    }
    const missing = options.scopes.filter((scope) => !issued.scopes.includes(scope));
    if (missing.length > 0) {
      return challenge(403, { code: "insufficient_scope", description: `missing scope: ${missing.join(" ")}` });
    }
    return {
      token,
      clientId: issued.clientId,
      scopes: issued.scopes,
      expiresAt: Math.floor(issued.expiresAtMs / 1000),
      resource: new URL(options.resource()),
      extra: { user: issued.userId },
    };
  }

  return {
    metadata: () =>
      jsonResponse(200, {
        resource: options.resource(),
        authorization_servers: [options.issuer()],
        scopes_supported: [...options.scopes],
        bearer_methods_supported: ["header"],
        resource_name: "oauth-client-registry example MCP server",
      }),
    async handle(request) {
      const authInfo = authenticate(request);
      if (authInfo instanceof Response) return authInfo;
      // Stateless Streamable HTTP: a fresh server and transport per request, nothing to clean up.
      const server = buildMcpServer();
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      try {
        return await transport.handleRequest(request, { authInfo });
      } finally {
        await server.close();
      }
    },
  };
}
