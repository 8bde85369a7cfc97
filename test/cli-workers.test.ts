/**
 * `serve --workers N`: worker processes share the port and the database;
 * `/metrics` sums every worker; a worker that dies is replaced (and the
 * replacement serves); SIGTERM drains every worker and the whole group
 * exits 0.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parseServeArgs } from "../src/cli/args.js";
import { UsageError } from "../src/cli/errors.js";
import { validCreateBody } from "./helpers/http.js";
import { spawnServe, type ServeProcess } from "./helpers/serve-process.js";

const directory = mkdtempSync(join(tmpdir(), "oauth-registry-workers-"));
let server: ServeProcess | undefined;
afterAll(() => {
  if (server?.child.exitCode === null) server.child.kill("SIGKILL");
  rmSync(directory, { recursive: true, force: true });
});

/** One GET on a connection of its own, so the cluster hands it to any worker. */
function getOnNewConnection(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    call.on("error", reject);
    call.end();
  });
}

async function until<T>(find: () => T | undefined): Promise<T> {
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("serve --workers", () => {
  it("parses N and auto, and names the flag when the value is unusable", () => {
    expect(parseServeArgs([], {}).workers).toBe(1);
    expect(parseServeArgs(["--workers", "3"], {}).workers).toBe(3);
    expect(parseServeArgs(["--workers", "auto"], {}).workers).toBeGreaterThanOrEqual(1);
    expect(() => parseServeArgs(["--workers", "0"], {})).toThrow(new UsageError('--workers must be auto or an integer from 1 to 256, got "0"'));
  });

  it("a worker that cannot start stops the group: exit code 1, the reason on stderr", async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--db", join(directory, "busy.sqlite"), "--port", String(port), "--workers", "2"], {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        env: { ...process.env, OAUTH_REGISTRY_API_TOKEN: "t", DATABASE_URL: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const stderr: string[] = [];
      child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
      const [code] = await once(child, "exit");
      expect(code).toBe(1);
      expect(stderr.join("")).toMatch(new RegExp(`error: worker \\d+: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
    } finally {
      blocker.close();
    }
  }, 60_000);

  it("two workers serve one SQLite file; a killed worker is replaced and logged; SIGTERM drains all and exits 0", async () => {
    server = await spawnServe(["--db", join(directory, "clients.sqlite"), "--workers", "2", "--metrics"], { OAUTH_REGISTRY_API_TOKEN: "t" });
    const started = await until(() => server!.stdout.find((l) => l.startsWith("serving with 2 worker processes")));
    const pids = /pids (\d+), (\d+)\)/.exec(started)!.slice(1).map(Number);
    const clients = `${server.url}/accounts/acct/oauth_clients`;
    const created = await server.call("POST", "/accounts/acct/oauth_clients", validCreateBody());
    expect(created.status).toBe(200);

    // /metrics sums every worker's counters, whichever worker takes the scrape.
    for (let i = 0; i < 8; i++) expect(await getOnNewConnection(clients, "t")).toBe(200);
    for (let scrape = 0; scrape < 4; scrape++) {
      const text = await (await fetch(server.url.replace("/client/v4", "/metrics"))).text();
      const listed = text.split("\n").find((l) => l.startsWith("oauth_registry_http_requests_total{") && l.includes('route="/client/v4/accounts/{account_id}/oauth_clients"') && l.includes('method="GET"'));
      expect(listed, text).toMatch(/ 8$/);
    }

    const replacements: number[] = [];
    for (const pid of pids) {
      process.kill(pid, "SIGKILL");
      await until(() => server!.stderr.find((l) => l.startsWith(`worker ${pid} killed by SIGKILL; starting a replacement`)));
      const replaced = await until(() => server!.stdout.map((l) => /^worker (\d+) started and listening$/.exec(l)?.[1]).filter(Boolean)[replacements.length]);
      replacements.push(Number(replaced));
      // Whichever worker takes each connection (the survivor or the replacement), the API answers from the same database.
      for (let i = 0; i < 6; i++) expect(await getOnNewConnection(clients, "t")).toBe(200);
    }
    expect(replacements.every(alive)).toBe(true);
    expect((await server.call("GET", `/accounts/acct/oauth_clients/${(created.body!.result as { client_id: string }).client_id}`)).status).toBe(200);

    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
    expect(server.stdout).toContain("SIGTERM received, draining 2 workers");
    expect(server.stderr.filter((l) => l.startsWith("error"))).toEqual([]);
    await until(() => (replacements.some(alive) ? undefined : true));
    // Generous: each replacement is a new process that loads the code again, slow on a loaded machine.
  }, 180_000);
});
