/**
 * End to end: the MCP TypeScript SDK, knowing nothing but the MCP server's
 * URL, registers itself through dynamic client registration (RFC 7591) at
 * the example server, completes code + PKCE and calls a tool; the registry
 * stores the client with source "dcr" and records its use.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  startMcpAuthorizationServer,
  type RunningMcpAuthorizationServer,
} from "../examples/mcp-authorization-server/server.js";
import type { OAuthClientRegistry, RegistryEvent } from "../src/index.js";
import { RegistrationPolicyError } from "../src/registration/index.js";
import { connectWithAuthorization, MCP_REDIRECT_URI, MemoryOAuthProvider, whoami } from "./helpers/mcp-client.js";
import { registryFixture } from "./helpers/registry.js";

const SCOPES = ["notes.read"];
const ACCOUNT = "self-registered";

interface Harness {
  registry: OAuthClientRegistry;
  server: RunningMcpAuthorizationServer;
  events: RegistryEvent[];
}

async function startHarness(): Promise<Harness> {
  const { registry, events } = registryFixture({ start: new Date(), scopeCatalog: ["notes.read", "notes.write"] });
  const server = await startMcpAuthorizationServer({
    registry,
    scopes: SCOPES,
    registration: {
      accountId: ACCOUNT,
      // An embedder's policy: redirect URIs on loopback only, as for a desktop MCP client.
      policy: (metadata) => {
        if (!metadata.redirect_uris.every((uri) => uri.startsWith("http://127.0.0.1"))) {
          throw new RegistrationPolicyError("invalid_redirect_uri", "only loopback redirect URIs are registered here");
        }
        return metadata;
      },
    },
  });
  return { registry, server, events };
}

describe("MCP SDK client registering itself (RFC 7591) at the example server", () => {
  let h: Harness;
  const open: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await h.server.close();
  });

  it("advertises the registration endpoint in its RFC 8414 metadata", async () => {
    const metadata = await (await fetch(`${h.server.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(metadata).toMatchObject({
      registration_endpoint: `${h.server.issuer}/register`,
      client_id_metadata_document_supported: false,
    });
  });

  it("a public client registers, authorizes with code + PKCE and calls a tool", async () => {
    const provider = new MemoryOAuthProvider({
      client_name: "Desktop MCP client",
      redirect_uris: [MCP_REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    });
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    open.push(close);

    const clientId = provider.information!.client_id;
    expect(provider.information).toMatchObject({ token_endpoint_auth_method: "none", scope: "notes.read" });
    expect(provider.information).not.toHaveProperty("client_secret");
    expect(await whoami(client)).toEqual({ client_id: clientId, scopes: SCOPES, user: "demo-user" });

    const stored = await h.registry.get(ACCOUNT, clientId);
    expect(stored).toMatchObject({ source: "dcr", client_name: "Desktop MCP client", redirect_uris: [MCP_REDIRECT_URI] });
    // The token request was the client's first use.
    expect(stored.last_used_at).toEqual(expect.any(String));
    const { clients } = await h.registry.list(ACCOUNT, { source: "dcr" });
    expect(clients.map((c) => c.client_id)).toContain(clientId);
  });

  it("a confidential client gets a secret at registration and authenticates with it (RFC 7591 default method)", async () => {
    const provider = new MemoryOAuthProvider({
      client_name: "Server-side MCP client",
      redirect_uris: [MCP_REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    });
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    open.push(close);

    const information = provider.information as { client_id: string; client_secret?: string; token_endpoint_auth_method?: string };
    expect(information.token_endpoint_auth_method).toBe("client_secret_basic");
    expect(information.client_secret).toEqual(expect.any(String));
    expect((await whoami(client)).client_id).toBe(information.client_id);
    const authenticated = h.events.filter((e) => e.type === "client.authenticated" && e.client_id === information.client_id);
    expect(authenticated).toHaveLength(1);
    expect((await h.registry.get(ACCOUNT, information.client_id)).source).toBe("dcr");
  });

  it("the SDK surfaces a registration the policy refuses, and nothing is stored", async () => {
    const before = (await h.registry.list(ACCOUNT)).clients.length;
    const provider = new MemoryOAuthProvider({
      client_name: "Web MCP client",
      redirect_uris: ["https://web.example/callback"],
      token_endpoint_auth_method: "none",
    });
    await expect(connectWithAuthorization(h.server.mcpUrl, provider)).rejects.toThrow(
      /only loopback redirect URIs are registered here/,
    );
    expect(provider.information).toBeUndefined();
    expect((await h.registry.list(ACCOUNT)).clients).toHaveLength(before);
  });
});
