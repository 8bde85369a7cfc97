/**
 * Drives the MCP TypeScript SDK's client-side authorization against a
 * server: an `OAuthClientProvider` that keeps everything in memory, and a
 * "browser" that follows the authorization redirect and hands the code back
 * to the SDK, as a native app's loopback listener would.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";

/** The loopback redirect URI the test "app" listens on (RFC 8252 §7.3). */
export const MCP_REDIRECT_URI = "http://127.0.0.1:53682/callback";

/** An in-memory provider: what a desktop MCP client would keep in its settings. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  verifier: string | undefined;
  /** Every authorization URL the SDK sent the user to. */
  readonly authorizationUrls: URL[] = [];
  readonly clientMetadataUrl: string | undefined;
  readonly addClientAuthentication: OAuthClientProvider["addClientAuthentication"];

  constructor(
    readonly clientMetadata: OAuthClientMetadata,
    options: {
      /** Pre-registered client information. */
      information?: OAuthClientInformationMixed;
      /** A Client ID Metadata Document URL to present as client_id. */
      clientMetadataUrl?: string;
      addClientAuthentication?: OAuthClientProvider["addClientAuthentication"];
    } = {},
  ) {
    this.information = options.information;
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.addClientAuthentication = options.addClientAuthentication;
  }

  get redirectUrl(): string {
    return MCP_REDIRECT_URI;
  }
  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    if (this.verifier === undefined) throw new Error("no code verifier saved");
    return this.verifier;
  }
}

/** The redirect the authorization server answered to the last authorization URL. */
export async function followAuthorization(provider: MemoryOAuthProvider): Promise<{ status: number; location: URL | null; body: unknown }> {
  const url = provider.authorizationUrls.at(-1);
  if (!url) throw new Error("the SDK did not start an authorization");
  const response = await fetch(url, { redirect: "manual" });
  const location = response.headers.get("location");
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  return { status: response.status, location: location === null ? null : new URL(location), body };
}

/**
 * The whole MCP authorization as a desktop client runs it: connect, get 401,
 * let the SDK discover and (if needed) register, approve in the "browser",
 * finish with the code, connect again with the token, and call a tool.
 */
export async function connectWithAuthorization(
  mcpUrl: string,
  provider: MemoryOAuthProvider,
): Promise<{ client: Client; close: () => Promise<void> }> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const rejected = await new Client({ name: "registry-e2e", version: "1.0.0" }).connect(first).then(
    () => null,
    (error: unknown) => error,
  );
  if (!(rejected instanceof UnauthorizedError)) throw new Error(`expected the SDK to ask for authorization, got ${String(rejected)}`);

  const { status, location, body } = await followAuthorization(provider);
  const code = location?.searchParams.get("code");
  if (status !== 302 || !code) throw new Error(`authorization refused: ${status} ${location ?? JSON.stringify(body)}`);
  await first.finishAuth(code);

  const client = new Client({ name: "registry-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

/** Calls the example server's `whoami` tool and parses its answer. */
export async function whoami(client: Client): Promise<{ client_id: string; scopes: string[]; user: string }> {
  const result = await client.callTool({ name: "whoami", arguments: {} });
  const content = result.content as { type: string; text: string }[];
  return JSON.parse(content[0]!.text) as { client_id: string; scopes: string[]; user: string };
}
