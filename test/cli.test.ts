/**
 * The `oauth-client-registry serve` command, spawned as a real process the
 * way `npm start` runs it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_SERVER_LIMITS, parseServeArgs } from "../src/cli/args.js";
import { UsageError } from "../src/cli/errors.js";
import { main } from "../src/cli/main.js";
import { validCreateBody } from "./helpers/http.js";
import { collectLines } from "./helpers/serve-process.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "ocr-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ACCOUNT = "acct-cli";

interface Cli {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

const running: Cli[] = [];
// Tests run concurrently (each has its own files and port), so leftovers are
// only reaped at the end.
afterAll(() => {
  for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
});

function spawnCli(args: string[], env: Record<string, string> = {}): Cli {
  const { DATABASE_URL: _ignored, OAUTH_REGISTRY_API_TOKEN: _token, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const cli: Cli = {
    child,
    stdout: [],
    stderr: [],
    exit: once(child, "exit").then(([code]) => code as number | null),
  };
  collectLines(child.stdout!, cli.stdout);
  collectLines(child.stderr!, cli.stderr);
  running.push(cli);
  return cli;
}

async function waitFor(cli: Cli, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of cli.stdout) {
      const match = pattern.exec(line);
      if (match) return match;
    }
    if (cli.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no line matching ${pattern}; exit ${cli.child.exitCode}\nstdout:\n${cli.stdout.join("\n")}\nstderr:\n${cli.stderr.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function startServer(args: string[], env: Record<string, string> = {}) {
  const cli = spawnCli(["serve", "--port", "0", ...args], env);
  const [, url] = await waitFor(cli, /listening on (http:\/\/\S+)/);
  return { cli, url: url! };
}

/**
 * Opens a connection and writes `text` exactly as given (no client
 * normalizes it); `answer` resolves with every byte received once the
 * connection is closed, by either side.
 */
function rawConnection(url: string, text: string) {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  let received = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (received += chunk));
  // A refused connection is reset: its answer is then whatever arrived, usually nothing.
  socket.on("error", () => {});
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const answer = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  if (text !== "") socket.write(text);
  return { socket, connected, answer };
}

function rawRequest(method: string, path: string, token: string, extra = "") {
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n${extra}`;
}

/** Runs the command's entry point in this process, capturing what it prints. */
async function runMain(args: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, env, { out: (line) => stdout.push(line), err: (line) => stderr.push(line) });
  return { code, stdout, stderr };
}

describe.concurrent("oauth-client-registry serve", () => {
  it("serves from SQLite, logs each request without secrets, shuts down cleanly, and keeps data across restarts", async () => {
    const db = join(work, "persist.sqlite");
    const first = await startServer(["--db", db]);
    const [, token] = await waitFor(first.cli, /API token .*: (\S+)$/);
    const auth = { authorization: `Bearer ${token}` };

    const created = await fetch(`${first.url}/accounts/${ACCOUNT}/oauth_clients`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(validCreateBody({ client_name: "Survivor" })),
    });
    expect(created.status).toBe(200);
    const client = ((await created.json()) as { result: { client_id: string; client_secret: string } }).result;
    expect((await fetch(`${first.url}/accounts/${ACCOUNT}/oauth_clients`)).status).toBe(401);

    await waitFor(first.cli, new RegExp(`POST /client/v4/accounts/${ACCOUNT}/oauth_clients 200 `));
    await waitFor(first.cli, new RegExp(`GET /client/v4/accounts/${ACCOUNT}/oauth_clients 401 `));
    const logLines = first.cli.stdout.filter((line) => !line.startsWith("API token"));
    expect(logLines.join("\n")).not.toContain(token!);
    expect(logLines.join("\n")).not.toContain(client.client_secret);

    first.cli.child.kill("SIGTERM");
    expect(await first.cli.exit).toBe(0);
    expect(first.cli.stdout.join("\n")).toContain("SIGTERM received, shutting down");

    const second = await startServer(["--db", db], { OAUTH_REGISTRY_API_TOKEN: "chosen-token" });
    expect(second.cli.stdout.some((line) => line.startsWith("API token"))).toBe(false);
    const again = await fetch(`${second.url}/accounts/${ACCOUNT}/oauth_clients/${client.client_id}`, {
      headers: { authorization: "Bearer chosen-token" },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { result: { client_name: string } }).result.client_name).toBe("Survivor");
    expect((await fetch(`${second.url}/oauth/scopes`, { headers: auth })).status).toBe(401);

    second.cli.child.kill("SIGINT");
    expect(await second.cli.exit).toBe(0);
  });

  it("serves a scope catalog file through /oauth/scopes and enforces it", async () => {
    const catalog = join(work, "scopes.json");
    writeFileSync(catalog, JSON.stringify(["zone.read", { id: "zone.edit", name: "Edit zones", category: "Zone" }]));
    const { cli, url } = await startServer(["--db", join(work, "catalog.sqlite"), "--scope-catalog", catalog], {
      OAUTH_REGISTRY_API_TOKEN: "t",
    });
    const auth = { authorization: "Bearer t" };
    const scopes = await (await fetch(`${url}/oauth/scopes`, { headers: auth })).json();
    expect((scopes as { result: unknown }).result).toEqual([
      { id: "zone.read", name: "zone.read" },
      { id: "zone.edit", name: "Edit zones", category: "Zone" },
    ]);
    const refused = await fetch(`${url}/accounts/${ACCOUNT}/oauth_clients`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(validCreateBody({ scopes: ["dns.edit"] })),
    });
    expect(refused.status).toBe(400);
    cli.child.kill("SIGTERM");
    expect(await cli.exit).toBe(0);
  });

  it.each([
    [["serve", "--bogus"], /unknown option '--bogus'/i],
    [["serve", "--port", "70000"], /--port must be an integer/],
    [["serve", "--database-url", "sqlserver://x"], /postgres:\/\/ \(postgresql:\/\/\) or mysql:\/\//],
    [["launch"], /unknown command "launch"/],
    [["serve", "--max-connections", "0"], /--max-connections must be an integer from 1/],
    [["serve", "--log-format", "xml"], /--log-format must be one of text, json/],
  ])("refuses %j with exit code 2 and the usage", async (args, message) => {
    // Argument and start-up errors return from main() before anything is
    // served, so they run in-process; the spawned tests cover the real bin.
    const cli = await runMain(args);
    expect(cli.code).toBe(2);
    const stderr = cli.stderr.join("\n");
    expect(stderr).toMatch(message);
    expect(stderr).toContain("Usage: oauth-client-registry serve");
  });

  it("exits 1 with a clear message when the database path is unusable", async () => {
    const notADirectory = join(work, "plain-file");
    writeFileSync(notADirectory, "");
    const cli = await runMain(["serve", "--port", "0", "--db", join(notADirectory, "db.sqlite")]);
    expect(cli.code).toBe(1);
    expect(cli.stderr.join("\n")).toMatch(/cannot open SQLite database .*plain-file/);
  });

  it("exits 1 without printing the password when PostgreSQL is unreachable", async () => {
    const cli = await runMain(["serve", "--port", "0", "--database-url", "postgres://app:hunter2@127.0.0.1:1/clients"]);
    expect(cli.code).toBe(1);
    const stderr = cli.stderr.join("\n");
    expect(stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/clients/);
    expect(stderr + cli.stdout.join("\n")).not.toContain("hunter2");
  });

  it("exits 1 without printing the password when MySQL / MariaDB is unreachable", async () => {
    const cli = await runMain(["serve", "--port", "0", "--database-url", "mysql://app:hunter2@127.0.0.1:1/clients"]);
    expect(cli.code).toBe(1);
    const stderr = cli.stderr.join("\n");
    expect(stderr).toMatch(/cannot connect to MySQL \/ MariaDB at mysql:\/\/app:\*\*\*@127\.0\.0\.1:1\/clients/);
    expect(stderr + cli.stdout.join("\n")).not.toContain("hunter2");
  });

  // Runs where a real server is configured (CI); the storage suite covers
  // PostgreSQL semantics, this covers the command's wiring to it.
  it.skipIf(!process.env.DATABASE_URL)("serves from PostgreSQL with --database-url, migrated on start", async () => {
    const databaseUrl = process.env.DATABASE_URL!;
    const account = `cli-pg-${Date.now().toString(36)}`;
    const auth = { authorization: "Bearer t" };
    const first = await startServer(["--database-url", databaseUrl], { OAUTH_REGISTRY_API_TOKEN: "t" });
    expect(first.cli.stdout.join("\n")).toContain("storage: PostgreSQL");
    const created = await fetch(`${first.url}/accounts/${account}/oauth_clients`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(validCreateBody()),
    });
    expect(created.status).toBe(200);
    const { client_id } = ((await created.json()) as { result: { client_id: string } }).result;
    first.cli.child.kill("SIGTERM");
    expect(await first.cli.exit).toBe(0);

    const second = await startServer([], { OAUTH_REGISTRY_API_TOKEN: "t", DATABASE_URL: databaseUrl });
    expect((await fetch(`${second.url}/accounts/${account}/oauth_clients/${client_id}`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${second.url}/accounts/${account}/oauth_clients/${client_id}`, { method: "DELETE", headers: auth })).status).toBe(200);
    second.cli.child.kill("SIGTERM");
    expect(await second.cli.exit).toBe(0);
  });

  // One server with short limits, so that the timeouts pass quickly.
  it("refuses dot segments with 400 and logs the raw path; bounds connections and request times", async () => {
    const { cli, url } = await startServer(
      [
        "--db", join(work, "limits.sqlite"),
        "--max-connections", "4",
        "--headers-timeout-ms", "1000",
        "--request-timeout-ms", "1000",
        "--keep-alive-timeout-ms", "200",
      ],
      { OAUTH_REGISTRY_API_TOKEN: "t" },
    );

    // Paths are matched, never resolved; the log shows what was sent.
    const created = await fetch(`${url}/accounts/victim/oauth_clients`, {
      method: "POST",
      headers: { authorization: "Bearer t", "content-type": "application/json", connection: "close" },
      body: JSON.stringify(validCreateBody()),
    });
    const { client_id } = ((await created.json()) as { result: { client_id: string } }).result;
    for (const dots of ["%2e%2e", "..", "%2E%2e"]) {
      const path = `/client/v4/accounts/attacker/oauth_clients/${dots}/${dots}/victim/oauth_clients/${client_id}`;
      const answer = await rawConnection(url, rawRequest("DELETE", `${path}?q=1`, "t", "Connection: close\r\n\r\n")).answer;
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('"code":1005');
      // The raw path, not the one a URL parser makes of it (…/victim/…), and no query.
      await waitFor(cli, new RegExp(` DELETE ${path.replace(/[.%]/g, "\\$&")} 400 \\d+\\.\\dms$`));
    }
    const still = await fetch(`${url}/accounts/victim/oauth_clients/${client_id}`, { headers: { authorization: "Bearer t", connection: "close" } });
    expect(still.status).toBe(200);

    // Connection limits: other clients keep being served while one trickles.
    const clients = `/client/v4/accounts/${ACCOUNT}/oauth_clients`;
    const served = () => rawConnection(url, rawRequest("GET", clients, "t", "Connection: close\r\n\r\n")).answer;

    // A body shorter than its Content-Length: answered 408 (or cut) once the request timeout passes.
    const truncated = rawConnection(
      url,
      rawRequest("POST", clients, "t", 'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"client_name":'),
    );
    await truncated.connected;
    expect(await served()).toMatch(/^HTTP\/1\.1 200 /);
    const cut = await truncated.answer;
    expect(cut === "" || /^HTTP\/1\.1 408 /.test(cut)).toBe(true);
    await waitFor(cli, new RegExp(` POST ${clients} aborted `));

    // Four silent connections fill the cap: a fifth is closed unanswered,
    // and service resumes once the headers timeout has closed the silent ones.
    const silent = [1, 2, 3, 4].map(() => rawConnection(url, ""));
    await Promise.all(silent.map((c) => c.connected));
    expect(await served()).toBe("");
    for (const answer of await Promise.all(silent.map((c) => c.answer))) expect(answer === "" || /^HTTP\/1\.1 408 /.test(answer)).toBe(true);
    const after = await served();
    expect(after).toMatch(/^HTTP\/1\.1 200 /);
    expect(after).toContain('"result":[]');

    cli.child.kill("SIGTERM");
    expect(await cli.exit).toBe(0);
  });

  it("exits 1 when the port is taken", async () => {
    const { cli: holder, url } = await startServer(["--db", join(work, "holder.sqlite")], { OAUTH_REGISTRY_API_TOKEN: "t" });
    const port = new URL(url).port;
    const second = await runMain(["serve", "--port", port, "--db", join(work, "second.sqlite")], { OAUTH_REGISTRY_API_TOKEN: "t" });
    expect(second.code).toBe(1);
    expect(second.stderr.join("\n")).toMatch(/cannot listen on 127\.0\.0\.1:\d+: address already in use/);
    holder.child.kill("SIGTERM");
    expect(await holder.exit).toBe(0);
  });
});

describe("parseServeArgs", () => {
  it("fills in the connection limits, and reads each from its flag", () => {
    expect(parseServeArgs([], {})).toMatchObject(DEFAULT_SERVER_LIMITS);
    expect(DEFAULT_SERVER_LIMITS).toEqual({ maxConnections: 512, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    const flags = ["--max-connections", "9", "--headers-timeout-ms", "100", "--request-timeout-ms", "200", "--keep-alive-timeout-ms", "300"];
    expect(parseServeArgs(flags, {})).toMatchObject({ maxConnections: 9, headersTimeoutMs: 100, requestTimeoutMs: 200, keepAliveTimeoutMs: 300 });
  });

  it.each([
    [["--max-connections", "1000001"], /--max-connections must be an integer from 1 to 1000000/],
    [["--request-timeout-ms", "soon"], /--request-timeout-ms must be a positive integer, got "soon"/],
    [["--keep-alive-timeout-ms=-5"], /--keep-alive-timeout-ms must be a positive integer, got "-5"/],
    [["--headers-timeout-ms", "0"], /--headers-timeout-ms must be an integer from 1/],
    [["--headers-timeout-ms", "5000", "--request-timeout-ms", "1000"], /--headers-timeout-ms \(5000\) must not exceed --request-timeout-ms \(1000\)/],
    [["--request-timeout-ms", "5000"], /--headers-timeout-ms \(10000\) must not exceed --request-timeout-ms \(5000\)/],
  ])("refuses %j", (args, message) => {
    expect(() => parseServeArgs(args, {})).toThrow(UsageError);
    expect(() => parseServeArgs(args, {})).toThrow(message);
  });
});
