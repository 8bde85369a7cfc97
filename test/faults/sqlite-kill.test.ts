/**
 * `serve` on a SQLite file, killed with SIGKILL in the middle of mixed
 * write load, restarted, several rounds over. After every restart each
 * write the server acknowledged (2xx) must be in the file, intact; a write
 * cut off by the kill may or may not have happened, but nothing else may
 * have; and the file must pass `PRAGMA integrity_check`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { createSqliteStore } from "../../adapters/sqlite.js";
import { createOAuthClientRegistry, type OAuthClient, type OAuthClientRegistry } from "../../src/index.js";

const ROUNDS = 6;
const WORKERS = 6;
const TOKEN = "fault-suite-token";

const root = fileURLToPath(new URL("../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "ocr-sqlite-kill-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** What a client looks like after a sequence of writes. `null` secrets are ones the test never saw. */
interface ClientState {
  deleted: boolean;
  name: string;
  hasRotated: boolean;
  current: string | null;
  rotated: string | null;
}

interface TrackedClient {
  id: string;
  /** The create body as sent; every field but client_name stays as sent. */
  body: Record<string, unknown>;
  /** The state after the last acknowledged write (or as last verified). */
  state: ClientState;
  /** The state a write cut off by the kill would have left, if it happened. */
  pending: ClientState | null;
}

interface Worker {
  account: string;
  clients: TrackedClient[];
  /** A create cut off by the kill: it may have stored a client the test knows only by its body. */
  pendingCreate: Record<string, unknown> | null;
  serial: number;
}

interface Tally {
  acknowledged: number;
  cutOff: number;
}

function createBody(worker: number, serial: number): Record<string, unknown> {
  return {
    client_name: `w${worker}-c${serial}-v0`,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: [`https://app${worker}.example.com/cb/${serial}`],
    scopes: ["profile", "zone.read"],
    token_endpoint_auth_method: "client_secret_basic",
    allowed_cors_origins: [`https://app${worker}.example.com`],
    policy_uri: `https://app${worker}.example.com/privacy/${serial}`,
  };
}

async function startServe(file: string): Promise<{ child: ChildProcess; url: string; stderr: string[] }> {
  const { DATABASE_URL: _url, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", "--db", file], {
    cwd: root,
    env: { ...inherited, OAUTH_REGISTRY_API_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const stderr: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  let stdout = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${stdout}\n${stderr.join("")}`)));
  });
  // The access log is not needed; keep the pipe drained.
  child.stdout!.resume();
  return { child, url, stderr };
}

/** One HTTP call: the result of a 2xx, or `"cut off"` when the connection failed. Any other status fails the test. */
async function call(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    return CUT_OFF;
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    return CUT_OFF;
  }
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { result: unknown }).result;
}
const CUT_OFF = Symbol("cut off");

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** Drives random writes on the worker's own clients until the server goes away. */
async function drive(url: string, index: number, worker: Worker, tally: Tally): Promise<void> {
  const base = `/accounts/${worker.account}/oauth_clients`;
  for (;;) {
    const live = worker.clients.filter((c) => !c.state.deleted);
    if (live.length < 3 || Math.random() < 0.2) {
      const body = createBody(index, ++worker.serial);
      worker.pendingCreate = body;
      const result = await call(url, "POST", base, body);
      if (result === CUT_OFF) return void tally.cutOff++;
      const created = result as OAuthClient & { client_secret: string };
      worker.pendingCreate = null;
      worker.clients.push({
        id: created.client_id,
        body,
        state: { deleted: false, name: body.client_name as string, hasRotated: false, current: created.client_secret, rotated: null },
        pending: null,
      });
      tally.acknowledged++;
      continue;
    }
    const client = pick(live);
    const before = client.state;
    const roll = Math.random();
    let request: [string, string, unknown?];
    let after: ClientState;
    if (roll < 0.5) {
      const name = `${before.name.replace(/-v\d+$/, "")}-v${worker.serial++}`;
      request = ["PATCH", `${base}/${client.id}`, { client_name: name }];
      after = { ...before, name };
    } else if (roll < 0.9) {
      request = [before.hasRotated ? "DELETE" : "POST", `${base}/${client.id}/rotate_secret`];
      after = before.hasRotated
        ? { ...before, hasRotated: false, rotated: null }
        : { ...before, hasRotated: true, current: null, rotated: before.current };
    } else {
      request = ["DELETE", `${base}/${client.id}`];
      after = { ...before, deleted: true };
    }
    client.pending = after;
    const result = await call(url, ...request);
    if (result === CUT_OFF) return void tally.cutOff++;
    if (request[0] === "POST") after.current = (result as { client_secret: string }).client_secret;
    client.state = after;
    client.pending = null;
    tally.acknowledged++;
  }
}

/** Why `actual` is not `expected`, or null when it is. */
async function mismatch(
  registry: OAuthClientRegistry,
  client: TrackedClient,
  expected: ClientState,
  actual: OAuthClient | undefined,
): Promise<string | null> {
  if (expected.deleted) return actual === undefined ? null : "present although deleted";
  if (actual === undefined) return "missing";
  if (actual.client_name !== expected.name) return `client_name ${actual.client_name}, expected ${expected.name}`;
  if (actual.has_rotated_secret !== expected.hasRotated) return `has_rotated_secret ${actual.has_rotated_secret}`;
  for (const [field, value] of Object.entries(client.body)) {
    if (field !== "client_name" && JSON.stringify(actual[field as keyof OAuthClient]) !== JSON.stringify(value)) {
      return `${field} changed to ${JSON.stringify(actual[field as keyof OAuthClient])}`;
    }
  }
  if (expected.current !== null && (await registry.authenticate(client.id, expected.current))?.matched !== "current") {
    return "the current secret does not authenticate as current";
  }
  if (expected.rotated !== null && (await registry.authenticate(client.id, expected.rotated))?.matched !== "rotated") {
    return "the rotated secret does not authenticate as rotated";
  }
  return null;
}

/**
 * Reads the file next to the running server and checks every worker's
 * clients against what it was told. Settles writes cut off by the kill to
 * whatever the file shows, so the next round starts from known states.
 */
async function verify(file: string, workers: readonly Worker[]): Promise<void> {
  const store = createSqliteStore(file);
  const registry = createOAuthClientRegistry(store, { resolveTxt: async () => [] });
  try {
    for (const worker of workers) {
      const stored = new Map<string, OAuthClient>();
      let cursor: string | undefined;
      do {
        const page = await registry.list(worker.account, { limit: 100, ...(cursor ? { cursor } : {}) });
        for (const client of page.clients) stored.set(client.client_id, client);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);

      for (const client of worker.clients) {
        const actual = stored.get(client.id);
        stored.delete(client.id);
        const asAcknowledged = await mismatch(registry, client, client.state, actual);
        if (asAcknowledged === null) {
          client.pending = null;
          continue;
        }
        const asCutOff = client.pending && (await mismatch(registry, client, client.pending, actual));
        if (client.pending && asCutOff === null) {
          client.state = client.pending;
          client.pending = null;
          continue;
        }
        expect.fail(`client ${client.id} of ${worker.account}: ${asAcknowledged}${asCutOff ? `; as the cut-off write left it: ${asCutOff}` : ""}`);
      }

      // Whatever is left was stored by a create whose answer the kill cut off.
      const unknown = [...stored.values()];
      expect(unknown.length, `clients of ${worker.account} nobody created`).toBeLessThanOrEqual(worker.pendingCreate ? 1 : 0);
      for (const client of unknown) {
        const body = worker.pendingCreate!;
        const adopted: TrackedClient = {
          id: client.client_id,
          body,
          state: { deleted: false, name: body.client_name as string, hasRotated: false, current: null, rotated: null },
          pending: null,
        };
        expect(await mismatch(registry, adopted, adopted.state, client)).toBeNull();
        worker.clients.push(adopted);
      }
      worker.pendingCreate = null;
    }
  } finally {
    await store.close();
  }
}

it(`keeps every acknowledged write through ${ROUNDS} SIGKILLs of serve under load, and the file stays intact`, async () => {
  const file = join(work, "clients.sqlite");
  const workers: Worker[] = Array.from({ length: WORKERS }, (_, i) => ({
    account: `acct-kill-${i}`,
    clients: [],
    pendingCreate: null,
    serial: 0,
  }));
  const rounds: Tally[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    const { child, url, stderr } = await startServe(file);
    await verify(file, workers);
    const tally: Tally = { acknowledged: 0, cutOff: 0 };
    rounds.push(tally);
    const load = workers.map((worker, index) => drive(url, index, worker, tally));
    await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 1000));
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await Promise.all(load);
    await exited;
    expect(stderr.join(""), "serve logged an error").not.toMatch(/error/i);
    expect(tally.acknowledged, `round ${round}: acknowledged writes`).toBeGreaterThan(0);
  }

  // The last kill is checked by one more start: serve must come up on the
  // file as the crash left it, and hold everything acknowledged.
  const last = await startServe(file);
  await verify(file, workers);
  const exited = once(last.child, "exit");
  last.child.kill("SIGTERM");
  expect((await exited)[0]).toBe(0);

  const db = new Database(file, { readonly: true });
  expect(db.pragma("integrity_check")).toEqual([{ integrity_check: "ok" }]);
  db.close();

  const cutOff = rounds.reduce((n, r) => n + r.cutOff, 0);
  expect(cutOff, "writes in flight when serve was killed").toBeGreaterThan(0);
  const live = workers.flatMap((w) => w.clients).filter((c) => !c.state.deleted).length;
  console.log(
    `sqlite-kill: ${ROUNDS} rounds; acknowledged writes per round ${rounds.map((r) => r.acknowledged).join(", ")}; ` +
      `cut off by the kill ${cutOff}; ${live} clients at the end`,
  );
});
