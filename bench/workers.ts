/**
 * The `serve --workers` rows: the real command, started with `--workers 1`
 * and `--workers 2` on one SQLite file holding 100 clients in one account,
 * loaded by the bench's own HTTP client in a child process (16 requests in
 * flight over 16 keep-alive connections) on the same machine. Rounds
 * alternate between the two servers; each row reports the median rate of
 * each and the median of the per-round ratios.
 *
 * The list page of 100 clients is the CPU-heavy route, measured on purpose:
 * the load generator takes a core of its own, so on 2 cores a second worker
 * can only pay off where serving costs much more than sending. GET one
 * client and POST (a create, fsync-bound on SQLite with synchronous = FULL)
 * are reported beside it.
 *
 *   npm run bench -- --only workers     these rows alone (~1 min); writes bench/results/workers.json
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSqliteStore } from "../adapters/sqlite.js";
import { createOAuthClientRegistry } from "../src/index.js";
import type { HttpBatch, HttpBatchResult } from "./http-client.js";
import { CREATE_INPUT } from "./operations.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = "bench-workers-token-0123456789abcdef";
const ACCOUNT = "bench-workers";
const CONCURRENCY = 16;

/** One route at `--workers 1` and `--workers 2`. */
export interface WorkersRow {
  route: string;
  /** Requests per second, median over rounds. */
  oneWorker: number;
  twoWorkers: number;
  /** Median of the per-round ratios (two ÷ one). */
  ratio: number;
  /**
   * Server CPU per request in µs (every process of the server, primary
   * included), median over rounds; null without /proc. Unlike the rates it
   * does not depend on what else the machine runs: equal values mean two
   * workers do the same work per request as one, so the rate grows with the
   * cores they get.
   */
  cpuUsPerRequest: { one: number | null; two: number | null };
  rounds: { one: number[]; two: number[] };
}

interface Server {
  child: ChildProcess;
  port: number;
  log: string;
  /** Every process of the server: the command's, and its workers' under --workers. */
  pids: number[];
}

/**
 * CPU time used so far by these processes, in milliseconds, from
 * /proc/<pid>/stat (user + system, in clock ticks of 10 ms); null where
 * /proc is not there.
 */
function cpuMs(pids: readonly number[]): number | null {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return null;
    }
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

async function startServe(db: string, workers: number, directory: string): Promise<Server> {
  const log = join(directory, `serve-${workers}.log`);
  const fd = openSync(log, "w");
  // Output to a file: the bench process reads none of the access log while measuring.
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--db", db, "--port", "0", "--workers", String(workers)], {
    cwd: root,
    env: { ...process.env, OAUTH_REGISTRY_API_TOKEN: TOKEN, DATABASE_URL: "" },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const ready = workers === 1 ? /listening on http:\/\/127\.0\.0\.1:(\d+)/ : /serving with \d+ worker/;
  for (let waited = 0; ; waited += 50) {
    const text = readFileSync(log, "utf8");
    if (ready.test(text)) {
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text)![1]);
      const workerPids = /pids ([\d, ]+)\)/.exec(text)?.[1]!.split(", ").map(Number) ?? [];
      return { child, port, log, pids: [child.pid!, ...workerPids] };
    }
    if (child.exitCode !== null || waited > 60_000) throw new Error(`serve --workers ${workers} did not start:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

/**
 * Measures the rows. `rounds` alternating pairs of `requests` requests per
 * route and server, after one unmeasured warm-up batch each.
 *
 * @example
 * const rows = await measureWorkers({ rounds: 5, requests: 2000 });
 */
export async function measureWorkers(options: { rounds: number; requests: number }, log: (line: string) => void = () => {}): Promise<WorkersRow[]> {
  const directory = mkdtempSync(join(tmpdir(), "ocr-bench-workers-"));
  const db = join(directory, "clients.sqlite");
  const store = createSqliteStore(db);
  const registry = createOAuthClientRegistry(store);
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) ids.push((await registry.create(ACCOUNT, { ...CREATE_INPUT, client_name: `Bench client ${i}` })).client_id);
  await store.close();

  const servers: Server[] = [];
  const client = fork(fileURLToPath(new URL("./http-client.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  /** Sends a batch; resolves with the rate (requests per second) and the server's CPU per request (µs). */
  const batch = (message: HttpBatch, pids: readonly number[]) =>
    new Promise<{ rate: number; cpuUs: number | null }>((resolve, reject) => {
      const cpuBefore = cpuMs(pids);
      const started = performance.now();
      client.once("message", (result: HttpBatchResult) => {
        const seconds = (performance.now() - started) / 1000;
        const cpuAfter = cpuMs(pids);
        const cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / message.requests;
        if (result.failures.length > 0) reject(new Error(`${message.method} ${message.paths[0]}: ${result.failures.join("; ")}`));
        else resolve({ rate: message.requests / seconds, cpuUs });
      });
      client.send(message);
    });
  try {
    servers.push(await startServe(db, 1, directory), await startServe(db, 2, directory));
    const base = `/client/v4/accounts/${ACCOUNT}/oauth_clients`;
    const routes: { route: string; method: "GET" | "POST"; paths: string[]; body?: string }[] = [
      { route: "GET list page of 100 clients", method: "GET", paths: [`${base}?per_page=100`] },
      { route: "GET one client", method: "GET", paths: ids.map((id) => `${base}/${id}`) },
      { route: "POST create (SQLite, synchronous = FULL)", method: "POST", paths: [base], body: JSON.stringify(CREATE_INPUT) },
    ];
    const rows: WorkersRow[] = [];
    for (const route of routes) {
      // POST is fsync-bound and slower: fewer requests per round.
      const requests = route.method === "POST" ? Math.max(200, Math.floor(options.requests / 5)) : options.requests;
      const run = (server: Server, count: number) =>
        batch(
          { port: server.port, method: route.method, paths: route.paths, ...(route.body && { body: route.body }), token: TOKEN, requests: count, concurrency: CONCURRENCY },
          server.pids,
        );
      for (const server of servers) await run(server, Math.min(requests, 500));
      const one: { rate: number; cpuUs: number | null }[] = [];
      const two: { rate: number; cpuUs: number | null }[] = [];
      for (let round = 0; round < options.rounds; round++) {
        // Alternating which goes first, so neither always runs on a warmer or cooler machine.
        if (round % 2 === 0) {
          one.push(await run(servers[0]!, requests));
          two.push(await run(servers[1]!, requests));
        } else {
          two.push(await run(servers[1]!, requests));
          one.push(await run(servers[0]!, requests));
        }
      }
      const cpu = (side: typeof one) => (side.some((r) => r.cpuUs === null) ? null : median(side.map((r) => r.cpuUs!)));
      const row: WorkersRow = {
        route: route.route,
        oneWorker: median(one.map((r) => r.rate)),
        twoWorkers: median(two.map((r) => r.rate)),
        ratio: median(one.map((r, i) => two[i]!.rate / r.rate)),
        cpuUsPerRequest: { one: cpu(one), two: cpu(two) },
        rounds: { one: one.map((r) => r.rate), two: two.map((r) => r.rate) },
      };
      log(
        `${row.route}: ${row.oneWorker.toFixed(0)} req/s with 1 worker, ${row.twoWorkers.toFixed(0)} with 2 (${row.ratio.toFixed(2)}×); ` +
          `server CPU per request ${row.cpuUsPerRequest.one?.toFixed(0)} µs and ${row.cpuUsPerRequest.two?.toFixed(0)} µs`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    client.send("exit");
    await Promise.all(servers.map(stop));
    rmSync(directory, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The rows as a Markdown table.
 *
 * @example
 * console.log(workersTable(await measureWorkers({ rounds: 5, requests: 2000 })));
 */
export function workersTable(rows: readonly WorkersRow[]): string {
  const us = (value: number | null) => (value === null ? "–" : value.toFixed(0));
  const lines = [
    "| route | --workers 1 (req/s) | --workers 2 (req/s) | 2 ÷ 1 | server CPU per request, 1 worker (µs) | 2 workers (µs) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.route} | ${row.oneWorker.toFixed(0)} | ${row.twoWorkers.toFixed(0)} | ${row.ratio.toFixed(2)}× | ${us(row.cpuUsPerRequest.one)} | ${us(row.cpuUsPerRequest.two)} |`,
    );
  }
  return lines.join("\n");
}
