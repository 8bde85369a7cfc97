/**
 * Three instances on one database, for each of SQLite (one file),
 * PostgreSQL and MariaDB: N processes on one database behave as one.
 *
 * What runs where:
 * - three `serve` processes (the real CLI, `src/cli/main.ts serve`) on the
 *   database, driven through the official `cloudflare` SDK by 16 concurrent
 *   workers, each request going to the next instance in turn;
 * - three embedder processes (fixtures/embedder.ts): the library opened on
 *   the same database the way `serve` opens it, answering POST /token with
 *   `authenticateAssertion` / `authenticate`, as a host authorization server
 *   would (`serve` has no token endpoint);
 * - two more embedder processes that each run `purgeClients`;
 * - the library itself in this test process, over the same database.
 *
 * Checked per database:
 * 1. GET-then-PATCH with If-Match from 16 workers across the serve instances
 *    loses no increment.
 * 2. A private_key_jwt assertion is accepted once in all: by exactly one of
 *    the three embedders and this process, whether they see it one after
 *    another or at the same moment (the four together, and the three
 *    embedders alone); single use is the store's `claimOnce`, shared by
 *    every process on the database.
 * 3. A rotation on one instance is seen by every other at once: the new
 *    secret authenticates as current, the old one as rotated, and once
 *    the rotated secret is deleted it no longer does; a deleted client is
 *    404 on every serve instance and refused by every embedder.
 * 4. Two purges started together in two processes delete each idle client
 *    exactly once, with one `client.deleted` event each, and keep the rest.
 * 5. One serve instance SIGKILLed under load: every write acknowledged by
 *    any instance is stored afterwards, and the survivors answer nothing
 *    5xx but 503 (the documented "storage unavailable, retry"); started
 *    again, the killed instance serves the same clients as the survivors.
 *
 * A database is skipped only when its URL is not set and its REQUIRE_ flag
 * is not either (SQLite always runs). Each run uses accounts of its own on
 * the shared servers' default tables (the ones `serve` uses) and deletes
 * its clients at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Cloudflare from "cloudflare";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type OpenedStore } from "../../src/cli/stores.js";
import { createOAuthClientRegistry, type OAuthClient, type OAuthClientRegistry, type RegistryEvent } from "../../src/index.js";
import { collectLines, spawnServe, type ServeProcess } from "../helpers/serve-process.js";
import { TOKEN_AUDIENCE } from "./fixtures/token-audience.js";

const TOKEN = "three-instances-token";
const WORKERS = 16;
const root = fileURLToPath(new URL("../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "ocr-three-instances-"));
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

interface Backend {
  name: string;
  /** A SQLite file, or a postgres:// or mysql:// URL; undefined when not configured. */
  location: string | undefined;
  required: boolean;
  variable: string;
}

const backends: Backend[] = [
  { name: "SQLite file", location: join(work, "shared.sqlite"), required: false, variable: "" },
  { name: "PostgreSQL", location: process.env.DATABASE_URL || undefined, required: process.env.REQUIRE_REAL_POSTGRES === "1", variable: "DATABASE_URL" },
  { name: "MariaDB", location: process.env.MYSQL_URL || undefined, required: process.env.REQUIRE_REAL_MARIADB === "1", variable: "MYSQL_URL" },
];

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

function isUrl(location: string): boolean {
  return /^(postgres(ql)?|mysql|mariadb):\/\//i.test(location);
}

function openShared(location: string): Promise<OpenedStore> {
  return openStore(isUrl(location) ? { db: "unused", databaseUrl: location } : { db: location, databaseUrl: null }, () => {});
}

async function startServe(location: string): Promise<ServeProcess> {
  const server = await spawnServe(isUrl(location) ? ["--database-url", location, "--no-console"] : ["--db", location, "--no-console"], {
    OAUTH_REGISTRY_API_TOKEN: TOKEN,
  });
  children.push(server.child);
  return server;
}

/** Spawns the embedder fixture; resolves once it printed `waitFor`. */
async function startEmbedder(args: string[], waitFor: RegExp): Promise<{ child: ChildProcess; stdout: string[]; stderr: string[]; match: RegExpExecArray }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/faults/fixtures/embedder.ts", ...args], {
    cwd: root,
    env: process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setInterval(() => {
      for (const line of stdout) {
        const found = waitFor.exec(line);
        if (found) {
          clearInterval(timer);
          return resolve(found);
        }
      }
      if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`embedder ${args[0]} exited with ${child.exitCode}: ${stderr.join("\n")}`));
      }
    }, 20);
  });
  return { child, stdout, stderr, match };
}

interface TokenReply {
  status: number;
  body: { client_id?: string; matched?: string; error?: string };
}

async function tokenRequest(url: string, form: Record<string, string>): Promise<TokenReply> {
  const response = await fetch(`${url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as TokenReply["body"] };
}

/** The HTTP status of a rejected SDK call; undefined for a connection failure. Rethrows anything else. */
function statusOf(error: unknown): number | undefined {
  if (error instanceof Cloudflare.APIConnectionError) return undefined;
  if (error instanceof Cloudflare.APIError) return error.status;
  throw error;
}

function sdkCreate(accountId: string, name: string): Cloudflare.IAM.OAuthClientCreateParams {
  return {
    account_id: accountId,
    client_name: name,
    grant_types: ["authorization_code"],
    redirect_uris: ["https://app.example.com/callback"],
    response_types: ["code"],
    scopes: [],
    token_endpoint_auth_method: "client_secret_basic",
  };
}

async function signer() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  return { privateKey, jwk };
}

function assertion(key: CryptoKey, clientId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(TOKEN_AUDIENCE)
    .setJti(crypto.randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends) {
  const location = backend.location;
  if (location === undefined) {
    if (backend.required) {
      it(`has ${backend.name} to test against (${backend.variable} is required)`, () => {
        throw new Error(`REQUIRE_REAL_${backend.name === "MariaDB" ? "MARIADB" : "POSTGRES"}=1 but ${backend.variable} is not set`);
      });
    } else {
      describe.skip(`three instances on one ${backend.name} (set ${backend.variable} to run)`, () => {
        it(`needs ${backend.variable}`, () => {});
      });
    }
    continue;
  }

  describe(`three serve instances and three embedders on one ${backend.name}`, () => {
    const tag = backend.name.replace(/\W/g, "").toLowerCase();
    const accounts: string[] = [];
    const account = (purpose: string) => {
      const id = `faults-3x-${tag}-${purpose}-${run}`;
      accounts.push(id);
      return id;
    };
    let serves: ServeProcess[] = [];
    let sdks: Cloudflare[] = [];
    let tokenUrls: string[] = [];
    let embedders: ChildProcess[] = [];
    let opened: OpenedStore;
    let library: OAuthClientRegistry;

    beforeAll(async () => {
      // The first instance creates or migrates the schema alone; the others open it as it is.
      const first = await startServe(location);
      const rest = await Promise.all([startServe(location), startServe(location)]);
      serves = [first, ...rest];
      sdks = serves.map((s) => new Cloudflare({ apiToken: TOKEN, baseURL: s.url, maxRetries: 0 }));
      const started = await Promise.all([0, 1, 2].map(() => startEmbedder(["token", location], /listening on (\S+)/)));
      embedders = started.map((e) => e.child);
      tokenUrls = started.map((e) => e.match[1]!);
      opened = await openShared(location);
      library = createOAuthClientRegistry(opened.store, { resolveTxt: async () => [] });
    });

    afterAll(async () => {
      for (const child of [...serves.map((s) => s.child), ...embedders]) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      }
      if (!library) return;
      for (const id of accounts) {
        for (;;) {
          const page = await library.list(id, { limit: 100 });
          for (const client of page.clients) await library.delete(id, client.client_id);
          if (page.clients.length === 0) break;
        }
      }
      await opened.close();
    });

    it("1. GET-then-PATCH with If-Match from 16 workers across the instances loses no increment", async () => {
      const accountId = account("counter");
      const counters = await Promise.all([0, 1].map((i) => sdks[i]!.iam.oauthClients.create(sdkCreate(accountId, "counter 0"))));
      const acknowledged = [0, 0];
      let preconditionFailed = 0;
      let unavailable = 0;

      async function worker(w: number): Promise<void> {
        const which = w % counters.length;
        const id = counters[which]!.client_id;
        let turn = w;
        for (let done = 0; done < 4; ) {
          const reader = sdks[turn++ % 3]!;
          const writer = sdks[turn++ % 3]!;
          let etag: string;
          let count: number;
          try {
            const { data, response } = await reader.iam.oauthClients.get(id, { account_id: accountId }).withResponse();
            etag = response.headers.get("etag")!;
            count = Number((data.client_name ?? "").split(" ")[1]);
          } catch (error) {
            expect(statusOf(error)).toBe(503);
            unavailable++;
            continue;
          }
          try {
            await writer.iam.oauthClients.update(id, { account_id: accountId, client_name: `counter ${count + 1}` }, { headers: { "If-Match": etag } });
          } catch (error) {
            const status = statusOf(error);
            if (status === 412) preconditionFailed++;
            else if (status === 503) unavailable++;
            else expect.fail(`PATCH answered ${status}`);
            continue;
          }
          acknowledged[which]!++;
          done++;
        }
      }

      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      expect(acknowledged.reduce((a, b) => a + b)).toBe(WORKERS * 4);
      for (const [i, counter] of counters.entries()) {
        for (const sdk of sdks) {
          expect((await sdk.iam.oauthClients.get(counter.client_id, { account_id: accountId })).client_name).toBe(`counter ${acknowledged[i]}`);
        }
        expect((await library.get(accountId, counter.client_id)).client_name).toBe(`counter ${acknowledged[i]}`);
      }
      // The workers did collide; If-Match is what kept every increment.
      expect(preconditionFailed).toBeGreaterThan(0);
      console.log(`${backend.name}: If-Match increments ${acknowledged.join(" + ")}, 412s ${preconditionFailed}, 503s ${unavailable}`);
    });

    it("2. a private_key_jwt assertion accepted by one embedder is refused by the others and by the library here", async () => {
      const accountId = account("jwt");
      const key = await signer();
      // The SDK's types know no private_key_jwt, so this client is created with a plain request to a serve instance.
      const created = await serves[0]!.call("POST", `/accounts/${accountId}/oauth_clients`, {
        ...sdkCreate(accountId, "jwt client"),
        account_id: undefined,
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [key.jwk] },
      });
      expect(created.status).toBe(200);
      const clientId = (created.body!.result as OAuthClient).client_id;

      // One after another: the embedder that sees it first accepts it; nobody else does afterwards.
      for (let first = 0; first < 3; first++) {
        const jwt = await assertion(key.privateKey, clientId);
        const form = { grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: jwt, client_id: clientId };
        expect(await tokenRequest(tokenUrls[first]!, form)).toEqual({ status: 200, body: { client_id: clientId, matched: "private_key_jwt" } });
        for (const other of [0, 1, 2].filter((i) => i !== first)) {
          expect(await tokenRequest(tokenUrls[other]!, form)).toEqual({ status: 401, body: { error: "invalid_client" } });
        }
        expect(await library.authenticateAssertion(jwt, { audience: TOKEN_AUDIENCE, clientId })).toBeNull();
      }
      // A fresh assertion accepted here first is refused by every embedder.
      const mine = await assertion(key.privateKey, clientId);
      expect(await library.authenticateAssertion(mine, { audience: TOKEN_AUDIENCE, clientId })).toMatchObject({ method: "private_key_jwt" });
      for (const url of tokenUrls) {
        expect((await tokenRequest(url, { client_assertion: mine, client_id: clientId })).status).toBe(401);
      }

      // At the same moment: 16 assertions, each sent to the three embedders and the library at once; each is accepted exactly once.
      const winners = await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          const jwt = await assertion(key.privateKey, clientId);
          const replies = await Promise.all([
            ...tokenUrls.map((url) => tokenRequest(url, { client_assertion: jwt, client_id: clientId }).then((r) => r.status)),
            library.authenticateAssertion(jwt, { audience: TOKEN_AUDIENCE, clientId }).then((auth) => (auth === null ? 401 : 200)),
          ]);
          expect(replies.filter((s) => s === 200), `answers ${replies.join(", ")}`).toHaveLength(1);
          expect(replies.filter((s) => s === 401)).toHaveLength(3);
          return replies.indexOf(200);
        }),
      );

      // The embedders alone at the same moment (this process, in memory, is the quickest of the four above); the library refuses afterwards.
      const embedderWinners = await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          const jwt = await assertion(key.privateKey, clientId);
          const replies = await Promise.all(tokenUrls.map((url) => tokenRequest(url, { client_assertion: jwt, client_id: clientId }).then((r) => r.status)));
          expect(replies.filter((s) => s === 200), `answers ${replies.join(", ")}`).toHaveLength(1);
          expect(replies.filter((s) => s === 401)).toHaveLength(2);
          expect(await library.authenticateAssertion(jwt, { audience: TOKEN_AUDIENCE, clientId })).toBeNull();
          return replies.indexOf(200);
        }),
      );
      const tally = (list: number[], n: number) => Array.from({ length: n }, (_, i) => list.filter((w) => w === i).length).join(", ");
      console.log(
        `${backend.name}: concurrent assertions accepted by [embedder 0, 1, 2, library] ${tally(winners, 4)}; ` +
          `by [embedder 0, 1, 2] alone ${tally(embedderWinners, 3)}`,
      );
    });

    it("3. a rotation on one instance holds on all at once; a deleted client is gone on all at once", async () => {
      const accountId = account("rotate");
      const created = await sdks[0]!.iam.oauthClients.create(sdkCreate(accountId, "rotating"));
      const clientId = created.client_id;
      const oldSecret = created.client_secret!;
      const everyone = async (secret: string) => [
        ...(await Promise.all(tokenUrls.map(async (url) => {
          const reply = await tokenRequest(url, { client_id: clientId, client_secret: secret });
          return reply.status === 200 ? reply.body.matched : reply.status;
        }))),
        (await library.authenticate(clientId, secret))?.matched ?? 401,
      ];
      // Every process has used the client (and read it) before the rotation.
      expect(await everyone(oldSecret)).toEqual(["current", "current", "current", "current"]);
      for (const sdk of sdks) expect((await sdk.iam.oauthClients.get(clientId, { account_id: accountId })).has_rotated_secret).toBe(false);

      const rotated = await sdks[1]!.iam.oauthClients.rotateSecret(clientId, { account_id: accountId });
      const newSecret = rotated.client_secret!;
      expect(await everyone(newSecret)).toEqual(["current", "current", "current", "current"]);
      expect(await everyone(oldSecret)).toEqual(["rotated", "rotated", "rotated", "rotated"]);
      for (const sdk of sdks) expect((await sdk.iam.oauthClients.get(clientId, { account_id: accountId })).has_rotated_secret).toBe(true);

      expect(await sdks[2]!.iam.oauthClients.deleteRotatedSecret(clientId, { account_id: accountId })).toEqual({ id: clientId });
      expect(await everyone(oldSecret)).toEqual([401, 401, 401, 401]);
      expect(await everyone(newSecret)).toEqual(["current", "current", "current", "current"]);

      expect(await sdks[0]!.iam.oauthClients.delete(clientId, { account_id: accountId })).toEqual({ id: clientId });
      for (const sdk of sdks) {
        const missing = await sdk.iam.oauthClients.get(clientId, { account_id: accountId }).catch((error: unknown) => error);
        expect(missing).toBeInstanceOf(Cloudflare.NotFoundError);
        expect((missing as InstanceType<typeof Cloudflare.NotFoundError>).status).toBe(404);
      }
      expect(await everyone(newSecret)).toEqual([401, 401, 401, 401]);
    });

    it("4. two purges started at once in two processes delete each idle client once, with one event each", async () => {
      const accountId = account("purge");
      // Idle: created an hour ago (the library here with its clock set back). Active: created now, through the SDK.
      const past = createOAuthClientRegistry(opened.store, { resolveTxt: async () => [], now: () => new Date(Date.now() - 3_600_000) });
      const idle = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const { account_id: _account, ...body } = sdkCreate(accountId, `idle ${i}`);
        idle.add((await past.create(accountId, body)).client_id);
      }
      const active = new Set<string>();
      for (let i = 0; i < 6; i++) active.add((await sdks[i % 3]!.iam.oauthClients.create(sdkCreate(accountId, `active ${i}`))).client_id);

      const purgers = await Promise.all([0, 1].map(() => startEmbedder(["purge", location, accountId, String(30 * 60_000), "1", "api"], /^ready$/)));
      const finished = purgers.map((p) => once(p.child, "exit"));
      for (const p of purgers) p.child.stdin!.write("go\n");
      const codes = await Promise.all(finished);
      for (const [i, [code]] of codes.entries()) expect(code, purgers[i]!.stderr.join("\n")).toBe(0);

      const deletedBy = purgers.map((p) => JSON.parse(p.stdout.find((l) => l.startsWith("deleted "))!.slice(8)) as string[]);
      const eventsOf = purgers.map((p) => p.stdout.filter((l) => l.startsWith("event ")).map((l) => JSON.parse(l.slice(6)) as RegistryEvent));
      const all = deletedBy.flat();
      expect(all.length, "deleted twice or not at all").toBe(idle.size);
      expect(new Set(all)).toEqual(idle);
      for (const [i, events] of eventsOf.entries()) {
        expect(events.every((e) => e.type === "client.deleted" && e.reason === "purged" && e.account_id === accountId)).toBe(true);
        expect(events.map((e) => e.client_id).sort()).toEqual([...deletedBy[i]!].sort());
      }
      for (const sdk of sdks) {
        const left: string[] = [];
        for await (const client of sdk.iam.oauthClients.list({ account_id: accountId })) left.push(client.client_id);
        expect(new Set(left)).toEqual(active);
      }
      console.log(`${backend.name}: purge split ${deletedBy.map((d) => d.length).join(" + ")} of ${idle.size} idle clients`);
    });

    it("5. SIGKILL of one instance under load: every acknowledged write is stored, the others answer no 5xx but 503", async () => {
      const accountId = account("kill");
      const victim = 2;
      let killed = false;
      let stop = false;
      const statuses = new Map<string, number>();
      const unexpected: string[] = [];
      interface Tracked {
        id: string;
        acked: string;
        /** Names sent after the acknowledged one whose outcome is unknown (cut off, or 503). */
        pending: string[];
      }
      const tracked: Tracked[] = [];
      const note = (instance: number, status: number | undefined, what: string) => {
        const key = `${instance === victim ? "victim" : "survivor"} ${status ?? "cut off"}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (status === undefined ? !(instance === victim && killed) : status >= 500 && status !== 503) unexpected.push(`${what} on instance ${instance}: ${status ?? "connection failed"}`);
      };

      async function worker(w: number): Promise<void> {
        const mine: Tracked[] = [];
        let serial = 0;
        for (let turn = w; !stop; turn++) {
          const instance = turn % 3;
          if (instance === victim && killed) continue;
          const sdk = sdks[instance]!;
          if (mine.length < 3 || serial % 4 === 0) {
            const name = `w${w}-${serial++}`;
            try {
              const created = await sdk.iam.oauthClients.create(sdkCreate(accountId, name));
              note(instance, 200, "create");
              const t = { id: created.client_id, acked: name, pending: [] };
              mine.push(t);
              tracked.push(t);
            } catch (error) {
              note(instance, statusOf(error), "create");
            }
          } else {
            const t = mine[serial % mine.length]!;
            const name = `w${w}-${serial++}`;
            t.pending.push(name);
            try {
              await sdk.iam.oauthClients.update(t.id, { account_id: accountId, client_name: name });
              note(instance, 200, "update");
              t.acked = name;
              t.pending = [];
            } catch (error) {
              note(instance, statusOf(error), "update");
            }
          }
        }
      }

      // A worker that fails stops the others, so that none keeps calling after the test.
      const load = Array.from({ length: WORKERS }, (_, w) =>
        worker(w).catch((error: unknown) => {
          stop = true;
          throw error;
        }),
      );
      await sleep(1500);
      const exited = once(serves[victim]!.child, "exit");
      killed = true;
      serves[victim]!.child.kill("SIGKILL");
      await exited;
      await sleep(1500);
      stop = true;
      await Promise.all(load);

      expect(unexpected).toEqual([]);
      const acknowledgedByVictim = [...statuses].filter(([k]) => k === "victim 200").reduce((n, [, c]) => n + c, 0);
      expect(acknowledgedByVictim, "writes the victim acknowledged before the kill").toBeGreaterThan(0);
      expect(statuses.get("survivor 200") ?? 0, "writes the survivors acknowledged").toBeGreaterThan(0);

      const survivors = sdks.filter((_, i) => i !== victim);
      const lists = await Promise.all(
        survivors.map(async (sdk) => {
          const names = new Map<string, string>();
          for await (const client of sdk.iam.oauthClients.list({ account_id: accountId })) names.set(client.client_id, client.client_name ?? "");
          return names;
        }),
      );
      expect(lists[1]).toEqual(lists[0]);
      const listed = lists[0]!;
      for (const t of tracked) {
        const stored = await library.get(accountId, t.id);
        expect([t.acked, ...t.pending], `client ${t.id}`).toContain(stored.client_name);
        expect(listed.get(t.id)).toBe(stored.client_name);
      }
      // The killed instance starts again on the database as the kill left it, and serves the same clients.
      const restarted = await startServe(location);
      serves[victim] = restarted;
      sdks[victim] = new Cloudflare({ apiToken: TOKEN, baseURL: restarted.url, maxRetries: 0 });
      const afterRestart = new Map<string, string>();
      for await (const client of sdks[victim]!.iam.oauthClients.list({ account_id: accountId })) afterRestart.set(client.client_id, client.client_name ?? "");
      expect(afterRestart).toEqual(listed);
      console.log(`${backend.name}: kill under load, answers ${JSON.stringify(Object.fromEntries(statuses))}, ${tracked.length} clients checked`);
    });
  });
}
