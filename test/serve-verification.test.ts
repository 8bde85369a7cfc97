/**
 * client_uri verification in `serve`, over a real socket and a SQLite file:
 * the verify_client_uri route, promotion to public once it passed, the
 * background checks, their resumption after a restart, and a DNS server
 * that never answers. `serve` runs in this process with a fake TXT
 * resolver and fake timers passed as options (no flag, no environment).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseServeArgs, type ServeVerificationOptions } from "../src/cli/args.js";
import { hashCredentialSecret } from "../src/http/authorizers.js";
import { serve, type RunningServer } from "../src/cli/serve.js";
import type { OAuthClient, ResolveTxt } from "../src/index.js";
import { fakeTimers, type FakeTimers } from "./helpers/fake-timers.js";
import { validCreateBody } from "./helpers/http.js";
import { fakeClock } from "./helpers/registry.js";

const work = mkdtempSync(join(tmpdir(), "ocr-verify-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TOKEN = "verify-token";
const ACCOUNT = "acct-verify";
const HOST = "app.example.com";
let databases = 0;

interface Started {
  running: RunningServer;
  fake: FakeTimers;
  /** Moves the fake clock (firing due timers) to `ms` after the client's last update, the start of its verification window. */
  advanceAfterUpdate(client: OAuthClient, ms: number): Promise<void>;
  /** TXT records the fake resolver answers with; a host without an entry: ENOTFOUND. */
  txt: Map<string, string[][]>;
  lookups: string[];
  stderr: string[];
  call(method: string, path: string, json?: unknown): Promise<{ status: number; body: { success: boolean; result: unknown; errors: { code: number; message: string }[] } }>;
  client(id: string): Promise<OAuthClient>;
}

/** Starts serve on `db` (a new file by default) with a fake resolver and timers on a fake clock started now. */
async function start(options: { db?: string; resolve?: ResolveTxt; verification?: ServeVerificationOptions; credentials?: string } = {}): Promise<Started> {
  const txt = new Map<string, string[][]>();
  const lookups: string[] = [];
  const stderr: string[] = [];
  // The registry stamps updated_at with the real clock; the scheduler's fake one starts at the same moment.
  const clock = fakeClock(new Date());
  const fake = fakeTimers(clock);
  const resolveTxt: ResolveTxt = async (host) => {
    lookups.push(host);
    if (options.resolve) return options.resolve(host);
    const records = txt.get(host);
    if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return records;
  };
  const serveOptions = {
    ...parseServeArgs(
      ["--port", "0", "--db", options.db ?? join(work, `verify-${databases++}.sqlite`), ...(options.credentials ? ["--credentials", options.credentials] : [])],
      {},
    ),
    verification: { resolveTxt, now: clock.now, timers: fake.timers, ...options.verification },
  };
  const running = await serve(serveOptions, { OAUTH_REGISTRY_API_TOKEN: TOKEN }, { out: () => {}, err: (l) => stderr.push(l) });
  const call: Started["call"] = async (method, path, json) => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(json === undefined ? {} : { "content-type": "application/json" }) },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    return { status: response.status, body: (await response.json()) as Awaited<ReturnType<Started["call"]>>["body"] };
  };
  const client = async (id: string) => (await call("GET", `/accounts/${ACCOUNT}/oauth_clients/${id}`)).body.result as OAuthClient;
  const advanceAfterUpdate = (updated: OAuthClient, ms: number) => fake.advance(Math.max(0, Date.parse(updated.updated_at) + ms - clock.now().getTime()));
  return { running, fake, advanceAfterUpdate, txt, lookups, stderr, call, client };
}

/** Reads the client until its verification has `status`, a bounded number of times (event-loop turns, not time). */
async function untilStatus(server: Started, id: string, status: string): Promise<OAuthClient> {
  let client = await server.client(id);
  for (let attempt = 0; attempt < 50 && client.client_uri_verification?.status !== status; attempt++) {
    await new Promise((resolve) => setImmediate(resolve));
    client = await server.client(id);
  }
  return client;
}

async function createClient(server: Started, overrides: Record<string, unknown> = {}) {
  const created = await server.call(
    "POST",
    `/accounts/${ACCOUNT}/oauth_clients`,
    validCreateBody({ client_uri: `https://${HOST}/`, logo_uri: `https://${HOST}/logo.png`, scopes: ["zone.read"], ...overrides }),
  );
  expect(created.status).toBe(200);
  return created.body.result as OAuthClient;
}

describe("client_uri verification in serve", () => {
  it("verify_client_uri answers failed, then verified once the record is published; promotion to public then succeeds", async () => {
    const server = await start();
    try {
      const created = await createClient(server);
      const path = `/accounts/${ACCOUNT}/oauth_clients/${created.client_id}`;
      expect(created.client_uri_verification?.status).toBe("pending");
      const refused = await server.call("PATCH", path, { visibility: "public" });
      expect(refused.status).toBe(400);
      expect(refused.body.errors.map((e) => e.message).join("\n")).toContain("client_uri");

      const missing = await server.call("POST", `${path}/verify_client_uri`);
      expect(missing.status).toBe(200);
      expect((missing.body.result as OAuthClient).client_uri_verification?.status).toBe("failed");

      server.txt.set(HOST, [[created.client_uri_verification!.text]]);
      const found = await server.call("POST", `${path}/verify_client_uri`);
      expect(found.status).toBe(200);
      expect(found.body.success).toBe(true);
      expect((found.body.result as OAuthClient).client_uri_verification).toEqual({ status: "verified", text: created.client_uri_verification!.text });

      const promoted = await server.call("PATCH", path, { visibility: "public" });
      expect(promoted.status).toBe(200);
      expect((promoted.body.result as OAuthClient).visibility).toBe("public");
      expect((await server.client(created.client_id)).visibility).toBe("public");
    } finally {
      await server.running.close();
    }
  });

  it("a client without client_uri gets 400 from verify_client_uri", async () => {
    const server = await start();
    try {
      const created = await createClient(server, { client_uri: undefined });
      const refused = await server.call("POST", `/accounts/${ACCOUNT}/oauth_clients/${created.client_id}/verify_client_uri`);
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]?.message).toBe("the client has no client_uri to verify");
    } finally {
      await server.running.close();
    }
  });

  it("checks in the background: a published record is found soon after the client is created", async () => {
    const server = await start();
    try {
      const created = await createClient(server);
      server.txt.set(HOST, [[created.client_uri_verification!.text]]);
      expect(server.lookups).toEqual([]);
      await server.advanceAfterUpdate(created, 29_000);
      expect(server.lookups).toEqual([]);
      await server.advanceAfterUpdate(created, 30_000);
      expect((await untilStatus(server, created.client_id, "verified")).client_uri_verification?.status).toBe("verified");
      expect(server.lookups).toEqual([HOST]);
    } finally {
      await server.running.close();
    }
  });

  it("after a restart, pending checks of every account resume at start, with no account named and before any call", async () => {
    const db = join(work, `verify-restart-${databases++}.sqlite`);
    const first = await start({ db });
    const created = await createClient(first);
    await first.running.close();
    expect(first.lookups).toEqual([]);

    // The default single token names no account: the store lists the accounts that hold clients.
    const second = await start({ db });
    try {
      second.txt.set(HOST, [[created.client_uri_verification!.text]]);
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      await second.advanceAfterUpdate(created, 30_000);
      for (let turn = 0; turn < 50 && second.lookups.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(second.lookups).toContain(HOST);
      expect((await untilStatus(second, created.client_id, "verified")).client_uri_verification?.status).toBe("verified");
    } finally {
      await second.running.close();
    }
  });

  it("after a restart, pending checks of an account the credentials file names resume at start, before any call", async () => {
    const db = join(work, `verify-named-${databases++}.sqlite`);
    const credentials = join(work, `credentials-${databases}.json`);
    writeFileSync(
      credentials,
      JSON.stringify({ credentials: [{ name: "reader", token_hash: hashCredentialSecret("file-token-0123456789abcdef0123456789"), accounts: [ACCOUNT, "other"], access: "read" }] }),
    );
    const first = await start({ db });
    const created = await createClient(first);
    await first.running.close();

    const second = await start({ db, credentials });
    try {
      second.txt.set(HOST, [[created.client_uri_verification!.text]]);
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      await second.advanceAfterUpdate(created, 30_000);
      // Looked up with no call on the account: the file named it, so the start-up sweep found the check.
      for (let turn = 0; turn < 50 && second.lookups.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(second.lookups).toContain(HOST);
      expect((await untilStatus(second, created.client_id, "verified")).client_uri_verification?.status).toBe("verified");
    } finally {
      await second.running.close();
    }
  });

  it("a DNS server that never answers blocks no request; the lookup gives up after lookupTimeoutMs", async () => {
    const server = await start({ resolve: () => new Promise<string[][]>(() => {}), verification: { lookupTimeoutMs: 5_000 } });
    try {
      const created = await createClient(server);
      await server.advanceAfterUpdate(created, 30_000); // the background check starts and hangs
      expect(server.lookups).toEqual([HOST]);
      const health = await fetch(new URL("/healthz", server.running.url));
      expect(health.status).toBe(200);
      const read = await server.client(created.client_id);
      expect(read.client_uri_verification?.status).toBe("in_progress");
      const renamed = await server.call("PATCH", `/accounts/${ACCOUNT}/oauth_clients/${created.client_id}`, { client_name: "Renamed" });
      expect(renamed.status).toBe(200);
      // An explicit check on a silent server ends at the time limit, as failed.
      const check = server.call("POST", `/accounts/${ACCOUNT}/oauth_clients/${created.client_id}/verify_client_uri`);
      for (let turn = 0; turn < 20 && server.lookups.length < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      await server.fake.advance(5_000);
      const answered = await check;
      expect(answered.status).toBe(200);
      expect((answered.body.result as OAuthClient).client_uri_verification?.status).toBe("failed");
    } finally {
      await server.running.close();
    }
  });
});
