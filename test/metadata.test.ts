import { describe, expect, it } from "vitest";
import type { CreateClientInput } from "../src/index.js";
import { clientToMetadata, metadataToClientInput, registrationErrorCode } from "../src/rules/metadata.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const dcr = (metadata: unknown, clientId?: string) => metadataToClientInput(metadata, { source: "dcr", clientId });
const cimd = (metadata: unknown, clientId = "https://app.example.com/client.json") =>
  metadataToClientInput(metadata, { source: "cimd", clientId });
const paths = (result: { issues: { path: string }[] }) => result.issues.map((issue) => issue.path);

describe("RFC 7591 metadata → client fields", () => {
  it("applies the RFC 7591 §2 defaults to a registration: code grant, code response, client_secret_basic", () => {
    const { input, issues } = dcr({ redirect_uris: ["https://app.example.com/cb"], client_name: "App" });
    expect(issues).toEqual([]);
    expect(input).toEqual({
      client_name: "App",
      redirect_uris: ["https://app.example.com/cb"],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      scopes: [],
      token_endpoint_auth_method: "client_secret_basic",
    });
  });

  it('defaults a metadata document to "none": it cannot hold a shared secret', () => {
    const { input, issues } = cimd({ client_id: "https://app.example.com/client.json", redirect_uris: ["https://app.example.com/cb"] });
    expect(issues).toEqual([]);
    expect(input.token_endpoint_auth_method).toBe("none");
  });

  it("splits scope on spaces into scopes, order kept; an empty scope string is no scopes", () => {
    expect(dcr({ redirect_uris: ["https://a.example/cb"], scope: "profile zone.read email" }).input.scopes).toEqual([
      "profile",
      "zone.read",
      "email",
    ]);
    expect(dcr({ redirect_uris: ["https://a.example/cb"], scope: "" }).input.scopes).toEqual([]);
  });

  it("refuses extra spaces in scope, showing the accepted form", () => {
    const { issues } = dcr({ redirect_uris: ["https://a.example/cb"], scope: " profile  email" });
    expect(issues).toEqual([{ path: "/scope", message: expect.stringContaining('send "profile email"') }]);
  });

  it("derives a missing client_name from the first redirect URI's host (registration)", () => {
    expect(dcr({ redirect_uris: ["http://127.0.0.1:33418/callback", "https://b.example/cb"] }).input.client_name).toBe("127.0.0.1:33418");
    expect(dcr({ redirect_uris: ["com.example.app:/oauth"] }).input.client_name).toBe("com.example.app");
  });

  it("derives a missing client_name from the client id URL's host (metadata document)", () => {
    const { input } = cimd({ client_id: "https://Tools.Example.com/mcp/client.json", redirect_uris: ["http://localhost:8080/cb"] }, "https://Tools.Example.com/mcp/client.json");
    expect(input.client_name).toBe("tools.example.com");
  });

  it("keeps the members RFC 7591 and this registry share, as sent", () => {
    const { input, issues } = dcr({
      redirect_uris: ["https://app.example.com/cb"],
      client_name: "App",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      client_uri: "https://app.example.com",
      logo_uri: "https://app.example.com/logo.png",
      policy_uri: "https://app.example.com/privacy",
      tos_uri: "https://app.example.com/tos",
      post_logout_redirect_uris: ["https://app.example.com/bye"],
    });
    expect(issues).toEqual([]);
    expect(input).toMatchObject({
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "none",
      client_uri: "https://app.example.com",
      logo_uri: "https://app.example.com/logo.png",
      policy_uri: "https://app.example.com/privacy",
      tos_uri: "https://app.example.com/tos",
      post_logout_redirect_uris: ["https://app.example.com/bye"],
    });
  });

  it("passes private_key_jwt, jwks and jwks_uri through to the registry's fields", () => {
    const jwks = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }] };
    const withKeys = dcr({ redirect_uris: ["https://a.example/cb"], token_endpoint_auth_method: "private_key_jwt", jwks });
    expect(withKeys.issues).toEqual([]);
    expect(withKeys.input).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", jwks });
    const withUri = cimd({
      client_id: "https://app.example.com/client.json",
      redirect_uris: ["https://a.example/cb"],
      token_endpoint_auth_method: "private_key_jwt",
      jwks_uri: "https://app.example.com/jwks.json",
    });
    expect(withUri.issues).toEqual([]);
    expect(withUri.input).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://app.example.com/jwks.json" });
  });

  it("ignores unknown members and members this registry does not keep (RFC 7591 §2)", () => {
    const { input, issues } = dcr({
      redirect_uris: ["https://a.example/cb"],
      client_name: "A",
      contacts: ["ops@a.example"],
      software_id: "4NRB1-0XZABZI9E6-5SM3R",
      software_version: "2.1",
      visibility: "public",
      x_vendor_extension: { anything: true },
    });
    expect(issues).toEqual([]);
    expect(Object.keys(input).sort()).toEqual(["client_name", "grant_types", "redirect_uris", "response_types", "scopes", "token_endpoint_auth_method"]);
  });

  it("reads null members as absent", () => {
    const { input, issues } = dcr({ redirect_uris: ["https://a.example/cb"], client_name: null, logo_uri: null, scope: null });
    expect(issues).toEqual([]);
    expect(input.client_name).toBe("a.example");
    expect(input).not.toHaveProperty("logo_uri");
  });

  it("refuses a software statement clearly instead of ignoring what it asserts", () => {
    const result = dcr({ redirect_uris: ["https://a.example/cb"], software_statement: "eyJhbGciOi.e30.sig" });
    expect(result.issues).toEqual([{ path: "/software_statement", message: expect.stringContaining("not accepted") }]);
    expect(registrationErrorCode(result.issues)).toBe("unapproved_software_statement");
  });

  it("reports every problem at once, in RFC 7591 member names", () => {
    const { issues } = dcr({
      redirect_uris: "https://a.example/cb",
      grant_types: ["authorization_code", "client_credentials", 7],
      response_types: ["code", "code id_token"],
      token_endpoint_auth_method: "tls_client_auth",
      scope: ["profile"],
      client_name: 42,
      logo_uri: {},
      jwks: { keys: "none" },
      jwks_uri: 1,
      post_logout_redirect_uris: [1],
    });
    expect(paths({ issues })).toEqual([
      "/redirect_uris",
      "/grant_types/1",
      "/grant_types/2",
      "/response_types/1",
      "/token_endpoint_auth_method",
      "/scope",
      "/client_name",
      "/logo_uri",
      "/post_logout_redirect_uris/0",
      "/jwks",
      "/jwks_uri",
    ]);
    expect(issues.find((i) => i.path === "/grant_types/1")?.message).toBe(
      'unsupported grant type "client_credentials"; supported: authorization_code, refresh_token',
    );
  });

  it("requires redirect_uris", () => {
    expect(dcr({ client_name: "A" }).issues).toEqual([{ path: "/redirect_uris", message: expect.stringContaining("required") }]);
  });

  it("refuses anything but a JSON object", () => {
    for (const value of [null, [], "x", 1]) expect(dcr(value).issues).toEqual([{ path: "", message: "client metadata must be a JSON object" }]);
  });

  it("ignores a client_id in a new registration: the server issues client ids", () => {
    expect(dcr({ redirect_uris: ["https://a.example/cb"], client_id: "chosen" }).issues).toEqual([]);
  });

  it("requires client_id to be the client being updated (RFC 7592 §2.2)", () => {
    expect(paths(dcr({ redirect_uris: ["https://a.example/cb"] }, "abc"))).toEqual(["/client_id"]);
    expect(paths(dcr({ redirect_uris: ["https://a.example/cb"], client_id: "other" }, "abc"))).toEqual(["/client_id"]);
    expect(dcr({ redirect_uris: ["https://a.example/cb"], client_id: "abc" }, "abc").issues).toEqual([]);
  });

  describe("Client ID Metadata Documents", () => {
    it("requires the document's client_id to be its URL", () => {
      const { issues } = cimd({ client_id: "https://evil.example/client.json", redirect_uris: ["https://a.example/cb"] });
      expect(issues).toEqual([{ path: "/client_id", message: expect.stringContaining("the URL of this metadata document") }]);
    });

    it("refuses shared-secret methods and secrets", () => {
      const { issues } = cimd({
        client_id: "https://app.example.com/client.json",
        redirect_uris: ["https://a.example/cb"],
        token_endpoint_auth_method: "client_secret_post",
        client_secret: "s3cret",
        client_secret_expires_at: 0,
      });
      expect(paths({ issues })).toEqual(["/client_secret", "/client_secret_expires_at", "/token_endpoint_auth_method"]);
      expect(registrationErrorCode(issues)).toBe("invalid_client_metadata");
    });

    it("throws a TypeError when called without the document's URL", () => {
      expect(() => metadataToClientInput({}, { source: "cimd" })).toThrow(TypeError);
    });
  });

  it("hands the registry a create body its rules accept, and its rules still apply", async () => {
    const { registry } = registryFixture();
    const ok = dcr({ redirect_uris: ["https://a.example/cb"], scope: "profile", token_endpoint_auth_method: "none" });
    const created = await registry.create("acct", ok.input as CreateClientInput);
    expect(created).toMatchObject({ client_name: "a.example", scopes: ["profile"], token_endpoint_auth_method: "none" });
    const bad = dcr({ redirect_uris: ["http://a.example/cb"] });
    expect(bad.issues).toEqual([]);
    await expect(registry.create("acct", bad.input as CreateClientInput)).rejects.toMatchObject({
      code: "validation_failed",
      issues: [{ path: "/redirect_uris/0", message: expect.stringContaining("https") }],
    });
  });
});

describe("client fields → RFC 7591 client information", () => {
  it("renames, joins scope, and states client_id_issued_at and client_secret_expires_at in Unix seconds", async () => {
    const { registry } = registryFixture({ start: "2026-03-01T12:00:00.500Z" });
    const created = await registry.create("acct", createBody({ scopes: ["zone.read", "profile"], logo_uri: "https://dash.example.com/l.png" }));
    const { client_secret: secret, ...client } = created;
    const body = clientToMetadata(client, {
      client_secret: secret,
      registration_access_token: "rat",
      registration_client_uri: `https://auth.example.com/register/${client.client_id}`,
    });
    expect(body).toEqual({
      client_id: client.client_id,
      client_secret: secret,
      client_id_issued_at: Date.parse("2026-03-01T12:00:00Z") / 1000,
      client_secret_expires_at: 0,
      registration_access_token: "rat",
      registration_client_uri: `https://auth.example.com/register/${client.client_id}`,
      client_name: "Dashboard",
      redirect_uris: ["https://dash.example.com/callback"],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "zone.read profile offline_access",
      logo_uri: "https://dash.example.com/l.png",
    });
  });

  it("states client_secret_expires_at for a secret client even when the secret is not shown, and never for a public one", async () => {
    const { registry } = registryFixture();
    const { client_secret: _secret, ...confidential } = await registry.create("acct", createBody());
    expect(clientToMetadata(confidential)).toMatchObject({ client_secret_expires_at: 0 });
    expect(clientToMetadata(confidential, { client_secret_expires_at: 1_900_000_000 }).client_secret_expires_at).toBe(1_900_000_000);
    const publicClient = await registry.create("acct", createBody({ token_endpoint_auth_method: "none" }));
    expect(clientToMetadata(publicClient)).not.toHaveProperty("client_secret_expires_at");
  });

  it("round-trips: the information of a client translates back into the same create body", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", createBody({ token_endpoint_auth_method: "none", post_logout_redirect_uris: ["https://dash.example.com/bye"] }));
    const again = dcr(clientToMetadata(created));
    expect(again.issues).toEqual([]);
    expect(again.input).toEqual({
      client_name: created.client_name,
      redirect_uris: created.redirect_uris,
      grant_types: created.grant_types,
      response_types: created.response_types,
      scopes: created.scopes,
      token_endpoint_auth_method: "none",
      post_logout_redirect_uris: ["https://dash.example.com/bye"],
    });
  });
});

describe("registrationErrorCode (RFC 7591 §3.2.2)", () => {
  it("answers invalid_redirect_uri for any redirect_uris issue, else invalid_client_metadata", () => {
    expect(registrationErrorCode([{ path: "/client_name", message: "x" }, { path: "/redirect_uris/2", message: "y" }])).toBe("invalid_redirect_uri");
    expect(registrationErrorCode([{ path: "/redirect_uris", message: "y" }])).toBe("invalid_redirect_uri");
    expect(registrationErrorCode([{ path: "/redirect_uris_extra", message: "y" }])).toBe("invalid_client_metadata");
    expect(registrationErrorCode([{ path: "/post_logout_redirect_uris/0", message: "y" }])).toBe("invalid_client_metadata");
    expect(registrationErrorCode([])).toBe("invalid_client_metadata");
  });
});
