import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry } from "../src/index.js";
import {
  bearerTokenAuthorize,
  createCredentialsAuthorizer,
  createFetchHandler,
  ForbiddenError,
  hashCredentialSecret,
  HTTP_ERROR_CODES,
  MAX_CREDENTIAL_SECRET_LENGTH,
  UnauthorizedError,
  validateCredentials,
  type AccountPermission,
  type ApiCredential,
  type AuthorizeContext,
} from "../src/http/index.js";
import { envelopeOf } from "./helpers/http.js";

const context = { accountId: "acct", permission: "account.oauth-client.delete" } as const;
const withAuthorization = (value?: string) =>
  new Request("http://localhost/client/v4/oauth/scopes", value === undefined ? {} : { headers: { authorization: value } });

describe("bearerTokenAuthorize: one shared token allows everything, anything else is a 401", () => {
  const authorize = bearerTokenAuthorize("s3cret-token");

  it.each(["Bearer s3cret-token", "bearer s3cret-token", "Bearer   s3cret-token  "])("%j is allowed", async (header) => {
    await expect(authorize(withAuthorization(header), context)).resolves.toBe(true);
  });

  it.each([
    ["no header", undefined],
    ["another token", "Bearer s3cret-tokeN"],
    ["a prefix of the token", "Bearer s3cret"],
    ["the token without the scheme", "s3cret-token"],
    ["another scheme", "Basic s3cret-token"],
    ["two tokens", "Bearer s3cret-token s3cret-token"],
    ["a header over the length bound", `Bearer ${"s".repeat(MAX_CREDENTIAL_SECRET_LENGTH + 1)}`],
  ])("%s is refused with UnauthorizedError", async (_name, header) => {
    await expect(authorize(withAuthorization(header), context)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("an empty token is refused when the authorizer is made, so it cannot be configured by mistake", () => {
    expect(() => bearerTokenAuthorize("")).toThrow(TypeError);
    expect(() => bearerTokenAuthorize("t".repeat(MAX_CREDENTIAL_SECRET_LENGTH + 1))).toThrow(TypeError);
  });

  it("through the handler: 401 with the unauthorized code, 200 with the token", async () => {
    const handler = createFetchHandler(createOAuthClientRegistry(createMemoryStore()), { authorize: authorize });
    const refused = await handler(withAuthorization("Bearer wrong"));
    expect(refused.status).toBe(401);
    expect((await envelopeOf(refused)).errors[0]!.code).toBe(HTTP_ERROR_CODES.unauthorized.code);
    expect((await handler(withAuthorization("Bearer s3cret-token"))).status).toBe(200);
  });
});

describe("createCredentialsAuthorizer: hashed tokens and key + email pairs, each limited to accounts and read or read_write", () => {
  const credentials: ApiCredential[] = [
    { name: "admin", tokenHash: hashCredentialSecret("admin-tok"), accounts: "*", access: "read_write" },
    { name: "reader", tokenHash: hashCredentialSecret("reader-tok"), accounts: ["acct"], access: "read" },
    { name: "sdk", email: "Ops@Example.com", keyHash: hashCredentialSecret("api-key-1"), accounts: ["acct", "other"], access: "read_write" },
  ];
  const { authorize } = createCredentialsAuthorizer(credentials);
  const request = (headers: Record<string, string>) => new Request("http://localhost/client/v4/accounts/acct/oauth_clients", { headers });
  const bearer = (token: string) => request({ authorization: `Bearer ${token}` });
  const keyed = (key: string, email: string) => request({ "x-auth-key": key, "x-auth-email": email });
  const on = (accountId: string, permission: AccountPermission): AuthorizeContext => ({ accountId, permission });
  const scopes: AuthorizeContext = { accountId: null, permission: "oauth-scope.list" };

  it("a token with access to every account may do everything anywhere", async () => {
    await expect(authorize(bearer("admin-tok"), on("anything", "account.oauth-client.delete"))).resolves.toBe(true);
  });

  it("a key + email pair is accepted, the email compared without regard to case", async () => {
    await expect(authorize(keyed("api-key-1", "ops@example.COM"), on("other", "account.oauth-client.create"))).resolves.toBe(true);
  });

  it("read allows list, read and the scope catalog, and refuses writes with ForbiddenError", async () => {
    await expect(authorize(bearer("reader-tok"), on("acct", "account.oauth-client.list"))).resolves.toBe(true);
    await expect(authorize(bearer("reader-tok"), on("acct", "account.oauth-client.read"))).resolves.toBe(true);
    await expect(authorize(bearer("reader-tok"), scopes)).resolves.toBe(true);
    await expect(authorize(bearer("reader-tok"), on("acct", "account.oauth-client.create"))).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("a known credential outside its accounts is a ForbiddenError", async () => {
    await expect(authorize(bearer("reader-tok"), on("other", "account.oauth-client.list"))).rejects.toBeInstanceOf(ForbiddenError);
    await expect(authorize(keyed("api-key-1", "ops@example.com"), on("third", "account.oauth-client.read"))).rejects.toBeInstanceOf(ForbiddenError);
  });

  it.each([
    ["no credentials", request({})],
    ["an unknown token", bearer("admin-tok2")],
    ["a key's secret sent as a bearer token", bearer("api-key-1")],
    ["a token's secret sent as a key", keyed("admin-tok", "ops@example.com")],
    ["the right key with another email", keyed("api-key-1", "dev@example.com")],
    ["a key without its email", request({ "x-auth-key": "api-key-1" })],
    ["an email without a key", request({ "x-auth-email": "ops@example.com" })],
    ["both styles at once", request({ authorization: "Bearer admin-tok", "x-auth-key": "api-key-1", "x-auth-email": "ops@example.com" })],
    ["a token over the length bound", bearer("a".repeat(MAX_CREDENTIAL_SECRET_LENGTH + 1))],
    ["a key over the length bound", keyed("k".repeat(MAX_CREDENTIAL_SECRET_LENGTH + 1), "ops@example.com")],
  ])("%s is an UnauthorizedError", async (_name, req) => {
    await expect(authorize(req, on("acct", "account.oauth-client.list"))).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("through the handler: 401 for unknown, 403 for not allowed, 200 for allowed", async () => {
    const handler = createFetchHandler(createOAuthClientRegistry(createMemoryStore()), { authorize, onError: () => {} });
    const list = (account: string, headers: Record<string, string>) =>
      handler(new Request(`http://localhost/client/v4/accounts/${account}/oauth_clients`, { headers }));
    const unknown = await list("acct", { authorization: "Bearer nope" });
    expect(unknown.status).toBe(401);
    expect((await envelopeOf(unknown)).errors[0]!.code).toBe(HTTP_ERROR_CODES.unauthorized.code);
    const elsewhere = await list("other", { authorization: "Bearer reader-tok" });
    expect(elsewhere.status).toBe(403);
    expect((await envelopeOf(elsewhere)).errors[0]!.code).toBe(HTTP_ERROR_CODES.forbidden.code);
    const write = await handler(
      new Request("http://localhost/client/v4/accounts/acct/oauth_clients", { method: "POST", headers: { authorization: "Bearer reader-tok" } }),
    );
    expect(write.status).toBe(403);
    expect((await list("acct", { "x-auth-key": "api-key-1", "x-auth-email": "ops@example.com" })).status).toBe(200);
  });

  it("replace swaps the whole set at once; an invalid set is refused and the old one stays", async () => {
    const swappable = createCredentialsAuthorizer(credentials);
    swappable.replace([{ tokenHash: hashCredentialSecret("new-tok"), accounts: "*", access: "read" }]);
    await expect(swappable.authorize(bearer("new-tok"), on("acct", "account.oauth-client.list"))).resolves.toBe(true);
    await expect(swappable.authorize(bearer("admin-tok"), on("acct", "account.oauth-client.list"))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(() => swappable.replace([{ tokenHash: "new-tok", accounts: "*", access: "read" }])).toThrow(/entry 0 tokenHash must be sha256\$/);
    await expect(swappable.authorize(bearer("new-tok"), on("acct", "account.oauth-client.list"))).resolves.toBe(true);
  });

  it("validation reports every problem with its entry index and never quotes a hash value", () => {
    const problems = validateCredentials([
      { tokenHash: "plaintext-secret", accounts: "*", access: "read" },
      { email: "a@b.c", keyHash: hashCredentialSecret("k"), accounts: [], access: "read_write" },
      { tokenHash: hashCredentialSecret("t"), accounts: ["*", "acct"], access: "write" as "read" },
      { tokenHash: hashCredentialSecret("t"), accounts: "*", access: "read" },
    ]);
    expect(problems.map((p) => p.index)).toEqual([0, 1, 2, 2, 3]);
    expect(problems.map((p) => p.message).join("\n")).not.toContain("plaintext-secret");
    expect(problems[4]!.message).toMatch(/same credential as entry 2/);
  });
});
