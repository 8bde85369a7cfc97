/**
 * The Worker as its users run it: the shipped migrations applied with
 * `wrangler d1 migrations apply --local`, then `wrangler dev` (workerd with a
 * local D1 persisted to a temporary folder), driven from Node by real
 * clients nobody here wrote: the `cloudflare` SDK for the v4 API and
 * openid-client for dynamic registration.
 *
 * `WRANGLER` names the wrangler binary (default: this example's
 * node_modules/.bin/wrangler).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Cloudflare from "cloudflare";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exampleDir = fileURLToPath(new URL("..", import.meta.url));
const wrangler = process.env.WRANGLER ?? join(exampleDir, "node_modules", ".bin", "wrangler");
const API_TOKEN = "test-token-0123456789abcdef0123456789abcdef";
const ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353";
const REGISTRATION_ACCOUNT = "registered";
// wrangler quiet and local: no metrics, no interactive session, and the
// placeholder `request.cf` instead of fetching Cloudflare's.
const wranglerEnv = {
  ...process.env,
  CI: "1",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

let state: string;
let issuer: string;
let dev: ChildProcess | undefined;

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Starts `wrangler dev` on `port` over the D1 state in `state`; resolves once it answers. */
async function startDev(port: number): Promise<ChildProcess> {
  const child = spawn(
    wrangler,
    [
      "dev",
      "--ip", "127.0.0.1",
      "--port", String(port),
      "--persist-to", state,
      "--var", `ISSUER:http://127.0.0.1:${port}`,
      "--var", `API_TOKEN:${API_TOKEN}`,
      "--show-interactive-dev-session=false",
    ],
    { cwd: exampleDir, env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 80_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
      if (response.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  child.kill("SIGTERM");
  throw new Error(`wrangler dev did not answer within 80 s:\n${output}`);
}

async function stopDev(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), "oauth-registry-worker-"));
  const migrated = spawnSync(wrangler, ["d1", "migrations", "apply", "oauth-clients", "--local", "--persist-to", state], {
    cwd: exampleDir,
    env: wranglerEnv,
    encoding: "utf8",
  });
  if (migrated.status !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${migrated.stdout}${migrated.stderr}`);
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  dev = await startDev(port);
});

afterAll(async () => {
  await stopDev(dev);
  rmSync(state, { recursive: true, force: true });
});

const sdk = (apiToken = API_TOKEN) => new Cloudflare({ apiToken, baseURL: `${issuer}/client/v4`, maxRetries: 0 });

describe("the v4 API in workerd over D1, through the cloudflare SDK", () => {
  it("runs all seven iam.oauthClients methods", async () => {
    const cf = sdk();
    const created = await cf.iam.oauthClients.create({
      account_id: ACCOUNT,
      client_name: "Worker app",
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: ["https://app.example.com/callback"],
      response_types: ["code"],
      scopes: ["profile"],
      token_endpoint_auth_method: "client_secret_basic",
    });
    expect(created.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.client_secret).toBeTruthy();
    expect(created.scopes).toEqual(["profile", "offline_access"]);

    const fetched = await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT });
    expect(fetched).toMatchObject({ client_id: created.client_id, client_name: "Worker app", has_rotated_secret: false });
    expect(fetched).not.toHaveProperty("client_secret");

    const updated = await cf.iam.oauthClients.update(created.client_id, { account_id: ACCOUNT, client_name: "Worker app v2" });
    expect(updated.client_name).toBe("Worker app v2");

    const listed: string[] = [];
    for await (const entry of cf.iam.oauthClients.list({ account_id: ACCOUNT })) listed.push(entry.client_id);
    expect(listed).toContain(created.client_id);

    const rotated = await cf.iam.oauthClients.rotateSecret(created.client_id, { account_id: ACCOUNT });
    expect(rotated.client_secret).toBeTruthy();
    expect(rotated.client_secret).not.toBe(created.client_secret);
    expect((await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).has_rotated_secret).toBe(true);

    expect(await cf.iam.oauthClients.deleteRotatedSecret(created.client_id, { account_id: ACCOUNT })).toEqual({ id: created.client_id });
    expect((await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).has_rotated_secret).toBe(false);

    expect(await cf.iam.oauthClients.delete(created.client_id, { account_id: ACCOUNT })).toEqual({ id: created.client_id });
    const gone = await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT }).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it("refuses a wrong API token, and a client of one account does not exist for another", async () => {
    const wrong = await sdk("not-the-token").iam.oauthClients.list({ account_id: ACCOUNT }).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(Cloudflare.AuthenticationError);

    const cf = sdk();
    const created = await cf.iam.oauthClients.create({
      account_id: ACCOUNT,
      client_name: "Tenant check",
      grant_types: ["authorization_code"],
      redirect_uris: ["https://app.example.com/callback"],
      response_types: ["code"],
      scopes: [],
      token_endpoint_auth_method: "none",
    });
    const elsewhere = await cf.iam.oauthClients.get(created.client_id, { account_id: "another-account" }).catch((error: unknown) => error);
    expect(elsewhere).toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it("answers a validation problem with the SDK's typed error and a JSON pointer", async () => {
    const invalid = await sdk()
      .iam.oauthClients.create({
        account_id: ACCOUNT,
        client_name: "Bad redirect",
        grant_types: ["authorization_code"],
        redirect_uris: ["http://app.example.com/callback"],
        response_types: ["code"],
        scopes: [],
        token_endpoint_auth_method: "none",
      })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(Cloudflare.BadRequestError);
    expect((invalid as InstanceType<typeof Cloudflare.BadRequestError>).errors).toEqual([
      expect.objectContaining({ source: { pointer: "/redirect_uris/0" } }),
    ]);
  });
});

describe("dynamic registration in workerd over D1, through openid-client", () => {
  it("registers with dynamicClientRegistration; the client is in the v4 API of the registration account; RFC 7592 reads and deletes it", async () => {
    const config = await client.dynamicClientRegistration(
      new URL(issuer),
      { client_name: "openid-client on the Worker", redirect_uris: ["http://127.0.0.1:8080/cb"], scope: "profile" },
      undefined,
      // Plain http is fine here: wrangler dev listens on loopback only.
      { algorithm: "oauth2", execute: [client.allowInsecureRequests] },
    );
    const registered = config.clientMetadata();
    expect(config.serverMetadata().registration_endpoint).toBe(`${issuer}/register`);
    expect(registered).toMatchObject({ client_name: "openid-client on the Worker", token_endpoint_auth_method: "client_secret_basic" });
    expect(registered.client_secret).toBeTruthy();
    const clientId = registered.client_id;
    const uri = registered.registration_client_uri as string;
    expect(uri).toBe(`${issuer}/register/${clientId}`);

    const managed = await sdk().iam.oauthClients.get(clientId, { account_id: REGISTRATION_ACCOUNT });
    expect(managed).toMatchObject({ client_id: clientId, client_name: "openid-client on the Worker", scopes: ["profile"] });

    const headers = { authorization: `Bearer ${registered.registration_access_token as string}` };
    const read = await fetch(uri, { headers });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ client_id: clientId, scope: "profile" });
    expect((await fetch(uri, { method: "DELETE", headers })).status).toBe(204);
    const gone = await sdk().iam.oauthClients.get(clientId, { account_id: REGISTRATION_ACCOUNT }).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(Cloudflare.NotFoundError);
  });
});

describe("the local D1 across restarts", () => {
  it("keeps a client when wrangler dev stops and starts again on the same state", async () => {
    const created = await sdk().iam.oauthClients.create({
      account_id: ACCOUNT,
      client_name: "Survives a restart",
      grant_types: ["authorization_code"],
      redirect_uris: ["https://app.example.com/callback"],
      response_types: ["code"],
      scopes: [],
      token_endpoint_auth_method: "client_secret_post",
    });
    await stopDev(dev);
    const port = Number(new URL(issuer).port);
    dev = await startDev(port);
    expect(await sdk().iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).toMatchObject({
      client_id: created.client_id,
      client_name: "Survives a restart",
    });
  });
});
