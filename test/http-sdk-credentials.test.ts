/**
 * The official `cloudflare` SDK's own default credentials, `apiKey` +
 * `apiEmail` (sent as X-Auth-Key / X-Auth-Email), against a handler guarded
 * by createCredentialsAuthorizer.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Cloudflare from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialsAuthorizer, createNodeRequestListener, hashCredentialSecret } from "../src/http/index.js";
import { ACCOUNT, OTHER_ACCOUNT, createHarness } from "./helpers/http.js";

const WRITER = { apiKey: "c2547eb745079dac9320b638f5e225cf483cc", apiEmail: "ops@example.com" };
const READER = { apiKey: "0f6b1d2c3e4a5b6c7d8e9f00112233445566a", apiEmail: "audit@example.com" };

let server: Server;
let baseURL: string;

beforeAll(async () => {
  const credentials = createCredentialsAuthorizer([
    { email: WRITER.apiEmail, keyHash: hashCredentialSecret(WRITER.apiKey), accounts: [ACCOUNT], access: "read_write" },
    { email: READER.apiEmail, keyHash: hashCredentialSecret(READER.apiKey), accounts: "*", access: "read" },
  ]);
  server = createServer(createNodeRequestListener(createHarness({ authorize: credentials.authorize }).handler));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// apiToken: null, so a CLOUDFLARE_API_TOKEN in the environment cannot add a bearer header.
const sdk = (keys: { apiKey: string; apiEmail: string }) => new Cloudflare({ ...keys, apiToken: null, baseURL, maxRetries: 0 });

describe("the cloudflare SDK with apiKey + apiEmail", () => {
  it("creates, lists and reads clients with a read_write key", async () => {
    const cf = sdk(WRITER);
    const created = await cf.iam.oauthClients.create({
      account_id: ACCOUNT,
      client_name: "key+email app",
      grant_types: ["authorization_code"],
      redirect_uris: ["https://example.com/callback"],
      response_types: ["code"],
      scopes: ["zone.read"],
      token_endpoint_auth_method: "client_secret_basic",
    });
    expect(created.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.client_secret).toBeTruthy();

    const listed = [];
    for await (const client of cf.iam.oauthClients.list({ account_id: ACCOUNT })) listed.push(client.client_id);
    expect(listed).toContain(created.client_id);
    expect((await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).client_name).toBe("key+email app");
  });

  it("a read key lists but cannot create (403 PermissionDeniedError)", async () => {
    const cf = sdk(READER);
    const listed = [];
    for await (const client of cf.iam.oauthClients.list({ account_id: OTHER_ACCOUNT })) listed.push(client);
    expect(listed).toEqual([]);
    const refused = await cf.iam.oauthClients
      .create({
        account_id: ACCOUNT,
        client_name: "nope",
        grant_types: ["authorization_code"],
        redirect_uris: ["https://example.com/callback"],
        response_types: ["code"],
        scopes: [],
        token_endpoint_auth_method: "none",
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Cloudflare.PermissionDeniedError);
  });

  it("a read_write key outside its accounts is refused with 403, a wrong key with 401", async () => {
    const elsewhere = await sdk(WRITER).iam.oauthClients.list({ account_id: OTHER_ACCOUNT }).catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(Cloudflare.PermissionDeniedError);
    const wrong = await sdk({ ...WRITER, apiKey: READER.apiKey }).iam.oauthClients.list({ account_id: ACCOUNT }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Cloudflare.AuthenticationError);
  });
});
