/**
 * End to end: the MCP TypeScript SDK presents a Client ID Metadata Document
 * URL as its client_id (the server advertises
 * `client_id_metadata_document_supported`), and the example server resolves
 * it through `registry.resolveClient`: the document is fetched (by an
 * injected fetcher: nothing leaves the machine), checked by the registry's
 * rules and stored with source "cimd", then code + PKCE completes and a tool
 * is called. Unusable documents are refused at /authorize, nothing stored.
 * The last part fetches for real, through the library's safe, caching
 * fetchers, from a TLS server on 127.0.0.1 that a test DNS lookup points at:
 * documents, and the key set of a private_key_jwt client.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createPrivateKeyJwtAuth } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import * as jose from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  startMcpAuthorizationServer,
  type RunningMcpAuthorizationServer,
} from "../examples/mcp-authorization-server/server.js";
import type { OAuthClientRegistry, RegistryEvent } from "../src/index.js";
import {
  createClientMetadataFetcher,
  createRemoteKeySetFetcher,
  createSafeFetcher,
  type RemoteKeySetFetcher,
  type RemoteLookup,
} from "../src/remote/index.js";
import {
  connectWithAuthorization,
  followAuthorization,
  MCP_REDIRECT_URI,
  MemoryOAuthProvider,
  whoami,
} from "./helpers/mcp-client.js";
import { registryFixture } from "./helpers/registry.js";
import { hasOpenssl, selfSignedCertificate } from "./helpers/tls.js";

const SCOPES = ["notes.read"];
const ACCOUNT = "metadata-documents";

interface Harness {
  registry: OAuthClientRegistry;
  server: RunningMcpAuthorizationServer;
  events: RegistryEvent[];
  /** The documents "published" at their URLs. */
  documents: Map<string, unknown>;
  /** Every URL the registry asked for. */
  fetched: string[];
}

async function startHarness(): Promise<Harness> {
  const documents = new Map<string, unknown>();
  const fetched: string[] = [];
  const { registry, events } = registryFixture({
    start: new Date(),
    scopeCatalog: ["notes.read"],
    clientIdMetadataDocuments: {
      accountId: ACCOUNT,
      fetchClientMetadata: async (url) => {
        fetched.push(url);
        if (!documents.has(url)) throw new Error("404 Not Found");
        return structuredClone(documents.get(url));
      },
    },
  });
  const server = await startMcpAuthorizationServer({ registry, scopes: SCOPES, clientIdMetadataDocuments: true });
  return { registry, server, events, documents, fetched };
}

function documentFor(url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: url,
    client_name: "Metadata document MCP client",
    client_uri: "https://client.example",
    redirect_uris: [MCP_REDIRECT_URI],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    scope: "notes.read",
    ...overrides,
  };
}

/** The SDK as a client that publishes its metadata at `url` (so it never registers). */
function providerFor(url: string): MemoryOAuthProvider {
  return new MemoryOAuthProvider(
    { client_name: "Metadata document MCP client", redirect_uris: [MCP_REDIRECT_URI], token_endpoint_auth_method: "none" },
    { clientMetadataUrl: url },
  );
}

describe("MCP SDK client presenting a Client ID Metadata Document URL", () => {
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

  it("advertises client_id_metadata_document_supported in its RFC 8414 metadata", async () => {
    const metadata = await (await fetch(`${h.server.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(metadata).toMatchObject({ client_id_metadata_document_supported: true });
  });

  it("the URL client id authorizes with code + PKCE and calls a tool; the client is stored with source cimd", async () => {
    const url = "https://client.example/oauth/mcp-client.json";
    h.documents.set(url, documentFor(url));
    const provider = providerFor(url);
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    open.push(close);

    expect(provider.information).toMatchObject({ client_id: url });
    expect(provider.authorizationUrls[0]!.searchParams.get("client_id")).toBe(url);
    expect(await whoami(client)).toEqual({ client_id: url, scopes: SCOPES, user: "demo-user" });
    expect(h.fetched).toContain(url);

    const stored = await h.registry.get(ACCOUNT, url);
    expect(stored).toMatchObject({
      client_id: url,
      source: "cimd",
      client_name: "Metadata document MCP client",
      token_endpoint_auth_method: "none",
      redirect_uris: [MCP_REDIRECT_URI],
    });
    expect(stored.last_used_at).toEqual(expect.any(String));
    expect(h.events).toContainEqual(expect.objectContaining({ type: "client.created", client_id: url, source: "cimd" }));
  });

  it("a changed document updates the stored client on the next authorization", async () => {
    const url = "https://client.example/oauth/renamed.json";
    h.documents.set(url, documentFor(url));
    open.push((await connectWithAuthorization(h.server.mcpUrl, providerFor(url))).close);
    h.documents.set(url, documentFor(url, { client_name: "Renamed MCP client" }));
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, providerFor(url));
    open.push(close);
    expect((await whoami(client)).client_id).toBe(url);
    expect((await h.registry.get(ACCOUNT, url)).client_name).toBe("Renamed MCP client");
  });

  it.each([
    ["names another client_id", { client_id: "https://client.example/oauth/other.json" }, /client_id/],
    ["uses a shared-secret method", { token_endpoint_auth_method: "client_secret_basic" }, /token_endpoint_auth_method/],
    ["has no redirect_uris", { redirect_uris: undefined }, /redirect_uris/],
    ["has a redirect URI the registry refuses", { redirect_uris: ["javascript:alert(1)"] }, /redirect_uris/],
  ])("a document that %s is refused at /authorize with invalid_client, and nothing is stored", async (name, overrides, mentioned) => {
    const url = `https://client.example/oauth/${name.replace(/\W+/g, "-")}.json`;
    h.documents.set(url, documentFor(url, overrides));
    const provider = providerFor(url);
    await expect(connectWithAuthorization(h.server.mcpUrl, provider)).rejects.toThrow(/authorization refused: 400/);
    const { status, location, body } = await followAuthorization(provider);
    expect({ status, location }).toEqual({ status: 400, location: null });
    expect(body).toMatchObject({ error: "invalid_client", error_description: expect.stringMatching(mentioned) });
    await expect(h.registry.get(ACCOUNT, url)).rejects.toMatchObject({ code: "not_found" });
  });

  it("a document that cannot be fetched is refused at /authorize, and nothing is stored", async () => {
    const url = "https://client.example/oauth/missing.json";
    const provider = providerFor(url);
    await expect(connectWithAuthorization(h.server.mcpUrl, provider)).rejects.toThrow(/authorization refused: 400/);
    expect((await followAuthorization(provider)).body).toMatchObject({
      error: "invalid_client",
      error_description: expect.stringContaining("could not be fetched"),
    });
    await expect(h.registry.get(ACCOUNT, url)).rejects.toMatchObject({ code: "not_found" });
  });

  it("a redirect URI the document does not list is refused without redirecting", async () => {
    const url = "https://client.example/oauth/other-redirect.json";
    h.documents.set(url, documentFor(url, { redirect_uris: ["http://127.0.0.1:1/elsewhere"] }));
    const provider = providerFor(url);
    await expect(connectWithAuthorization(h.server.mcpUrl, provider)).rejects.toThrow(/authorization refused: 400/);
    expect((await followAuthorization(provider)).body).toMatchObject({ error: "invalid_request" });
  });
});

// A real https document server on 127.0.0.1 with a throwaway certificate for
// client.test; the safe fetcher reaches it only through a test lookup and an
// address policy that allows exactly 127.0.0.1 (the default refuses loopback).

/** The registry's key-set hook over a remote key-set fetcher: `refresh` for an unknown kid. */
function keySetFetcherOf(fetcher: RemoteKeySetFetcher) {
  return (uri: string, { refresh }: { refresh: boolean }) => (refresh ? fetcher.refresh(uri) : fetcher(uri));
}

describe.skipIf(!hasOpenssl)("MCP SDK client with a metadata document fetched by the safe fetcher over TLS", () => {
  let documentServer: HttpsServer;
  let documentOrigin: string;
  const requested: string[] = [];
  let signingKeys: CryptoKeyPair;
  let h: Harness;
  const open: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const tls = selfSignedCertificate(["client.test"]);
    const cert = tls.cert;
    signingKeys = await jose.generateKeyPair("ES256", { extractable: true });
    const publicJwk = { ...(await jose.exportJWK(signingKeys.publicKey)), kid: "cimd-1", alg: "ES256", use: "sig" };
    const served: Record<string, () => unknown> = {
      "/oauth/mcp-client.json": () => documentFor(`${documentOrigin}/oauth/mcp-client.json`),
      // A client that authenticates with private_key_jwt, its keys published next to its document.
      "/oauth/keyed-client.json": () =>
        documentFor(`${documentOrigin}/oauth/keyed-client.json`, {
          token_endpoint_auth_method: "private_key_jwt",
          jwks_uri: `${documentOrigin}/oauth/jwks.json`,
        }),
      "/oauth/jwks.json": () => ({ keys: [publicJwk] }),
    };
    documentServer = createHttpsServer({ key: tls.key, cert }, (req, res) => {
      requested.push(req.url ?? "");
      const body = served[req.url ?? ""];
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
      res.end(JSON.stringify(body()));
    });
    documentServer.listen(0, "127.0.0.1");
    await new Promise((resolve) => documentServer.once("listening", resolve));
    documentOrigin = `https://client.test:${(documentServer.address() as AddressInfo).port}`;

    const lookup: RemoteLookup = async (hostname) => {
      if (hostname === "client.test") return [{ address: "127.0.0.1", family: 4 }];
      if (hostname === "internal.test") return [{ address: "10.0.0.7", family: 4 }];
      throw Object.assign(new Error(`no such host ${hostname}`), { code: "ENOTFOUND" });
    };
    const fetcher = createSafeFetcher({ ca: cert, lookup, isAllowedAddress: (address) => address === "127.0.0.1" });
    const { registry, events } = registryFixture({
      start: new Date(),
      scopeCatalog: ["notes.read"],
      clientIdMetadataDocuments: { accountId: ACCOUNT, fetchClientMetadata: createClientMetadataFetcher({ fetcher }) },
      privateKeyJwt: { fetchKeySet: keySetFetcherOf(createRemoteKeySetFetcher({ fetcher })) },
    });
    const server = await startMcpAuthorizationServer({ registry, scopes: SCOPES, clientIdMetadataDocuments: true });
    h = { registry, server, events, documents: new Map(), fetched: [] };
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await h.server.close();
    documentServer.closeAllConnections();
    await new Promise((resolve) => documentServer.close(resolve));
  });

  it("completes code + PKCE and a tool call; the document is fetched once and cached", async () => {
    const url = `${documentOrigin}/oauth/mcp-client.json`;
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, providerFor(url));
    open.push(close);
    expect(await whoami(client)).toEqual({ client_id: url, scopes: SCOPES, user: "demo-user" });
    expect(await h.registry.get(ACCOUNT, url)).toMatchObject({ source: "cimd", client_name: "Metadata document MCP client" });
    // /authorize and /token both resolved the client; the second came from the fetcher's cache (max-age=300).
    expect(requested).toEqual(["/oauth/mcp-client.json"]);
  });

  it("a metadata-document client with private_key_jwt and a jwks_uri authenticates with the MCP SDK's assertion helper", async () => {
    const url = `${documentOrigin}/oauth/keyed-client.json`;
    const privateJwk = { ...(await jose.exportJWK(signingKeys.privateKey)), kid: "cimd-1" };
    const provider = new MemoryOAuthProvider(
      { redirect_uris: [MCP_REDIRECT_URI], token_endpoint_auth_method: "private_key_jwt" },
      {
        clientMetadataUrl: url,
        addClientAuthentication: createPrivateKeyJwtAuth({ issuer: url, subject: url, privateKey: privateJwk, alg: "ES256" }),
      },
    );
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    open.push(close);
    expect(await whoami(client)).toMatchObject({ client_id: url });
    expect(await h.registry.get(ACCOUNT, url)).toMatchObject({
      source: "cimd",
      token_endpoint_auth_method: "private_key_jwt",
      jwks_uri: `${documentOrigin}/oauth/jwks.json`,
    });
    expect(h.events).toContainEqual(expect.objectContaining({ type: "client.authenticated", client_id: url, matched: "private_key_jwt" }));
    expect(requested.filter((path) => path === "/oauth/jwks.json")).toHaveLength(1);
  });

  it("refuses a document URL whose host resolves to a private address, before connecting", async () => {
    const url = "https://internal.test/oauth/mcp-client.json";
    const provider = providerFor(url);
    const before = requested.length;
    await expect(connectWithAuthorization(h.server.mcpUrl, provider)).rejects.toThrow(/authorization refused: 400/);
    expect((await followAuthorization(provider)).body).toMatchObject({
      error: "invalid_client",
      error_description: expect.stringContaining("could not be fetched"),
    });
    expect(requested.length).toBe(before);
    await expect(h.registry.get(ACCOUNT, url)).rejects.toMatchObject({ code: "not_found" });
  });
});
