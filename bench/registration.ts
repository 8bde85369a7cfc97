/**
 * The registration row (issue 17 item 5): RFC 7591 `POST /register` on the
 * memory store through the node:http bridge, against node-oidc-provider 9's
 * registration endpoint with its in-memory adapter; target: at least 1.0×
 * its rate.
 *
 * Each server runs in a process of its own (bench/registration-server.ts),
 * so neither shares an event loop, a heap or a garbage collector with the
 * other or with the load; the same load generator (bench/http-client.ts, a
 * child process: keep-alive connections, a fixed number of requests in
 * flight, every answer checked for 201) sends the same JSON body to both.
 * Rounds alternate which server goes first; the row's figure is the median
 * of the per-round rate ratios, with their quartiles, and beside it each
 * server's CPU per request (every process of the server, from /proc),
 * which other load on the machine disturbs far less than the rates.
 *
 * Neither side limits: ours is built as docs/registration.md shows it, with
 * no `rateLimit` and no `clientLimit` (both off unless given; `serve
 * --registration` turns on defaults that would refuse this load);
 * oidc-provider has no initial access token. oidc-provider's in-memory
 * adapter is an LRU of 1 000 entries, so it forgets clients as the row
 * registers them, while ours keeps every one.
 *
 *   npm run bench -- --only registration     this row alone (~1 min); writes bench/results/registration.json
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { spread, type Spread } from "./harness.js";
import type { HttpBatch, HttpBatchResult } from "./http-client.js";
import type { RegistrationServerReady } from "./registration-server.js";

/** The body both servers receive: a typical confidential web client. */
export const REGISTRATION_BODY = {
  client_name: "Bench app",
  redirect_uris: ["https://app.example.com/callback"],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
};

/** Requests in flight, each on its own keep-alive connection. */
export const REGISTRATION_CONCURRENCY = 8;
/** The least rate of ours relative to oidc-provider's the issue asks for. */
export const REGISTRATION_TARGET = 1.0;

/** The measured row. */
export interface RegistrationRow {
  name: string;
  ours: string;
  baseline: string;
  /** Requests per second, median over rounds. */
  oursRate: number;
  baselineRate: number;
  /** Per-round ratios of ours' rate to oidc-provider's. */
  speed: Spread;
  /**
   * Server CPU per request in µs, median over rounds, and the per-round
   * ratios oidc-provider ÷ ours (above 1: ours costs less); null without /proc.
   */
  cpuUsPerRequest: { ours: number | null; baseline: number | null };
  speedCpu: Spread | null;
  target: number;
  /** Whether the median rate ratio reaches the target, and whether the CPU ratio does. */
  met: boolean;
  metCpu: boolean | null;
  rounds: { ours: number[]; baseline: number[]; oursCpuUs: (number | null)[]; baselineCpuUs: (number | null)[] };
}

interface Server {
  child: ChildProcess;
  ready: RegistrationServerReady;
}

/** CPU time used so far by a process, in ms (user + system, ticks of 10 ms); null without /proc. */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

async function start(side: "ours" | "oidc-provider", execArgv: readonly string[]): Promise<Server> {
  const child = fork(fileURLToPath(new URL("./registration-server.ts", import.meta.url)), [side], {
    execArgv: ["--import", "tsx", ...execArgv],
    // oidc-provider warns about its development keys and adapter on stderr; nothing else is printed.
    stdio: ["ignore", "inherit", "ignore", "ipc"],
  });
  const ready = await new Promise<RegistrationServerReady>((resolve, reject) => {
    child.once("message", (message: RegistrationServerReady) => resolve(message));
    child.once("exit", (code) => reject(new Error(`the ${side} registration server exited (${code}) before listening`)));
  });
  return { child, ready };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.send("exit");
  await exited;
}

/**
 * Measures the row: `rounds` alternating pairs of `requests` registrations
 * per server, after one unmeasured warm-up batch each. `serverExecArgv`
 * goes to both server processes (e.g. `--cpu-prof` to see where time goes).
 *
 * @example
 * const row = await measureRegistration({ rounds: 11, requests: 2000 });
 * console.log(row.speed.median >= row.target ? "met" : "not met");
 */
export async function measureRegistration(
  options: { rounds: number; requests: number; serverExecArgv?: readonly string[] },
  log: (line: string) => void = () => {},
): Promise<RegistrationRow> {
  const body = JSON.stringify(REGISTRATION_BODY);
  const client = fork(fileURLToPath(new URL("./http-client.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const servers: Server[] = [];
  /** Sends a batch; resolves with the rate (requests per second) and the server's CPU per request (µs). */
  const batch = (server: Server, requests: number) =>
    new Promise<{ rate: number; cpuUs: number | null }>((resolve, reject) => {
      const message: HttpBatch = { port: server.ready.port, method: "POST", paths: [server.ready.path], body, status: 201, requests, concurrency: REGISTRATION_CONCURRENCY };
      const pid = server.child.pid!;
      const cpuBefore = cpuMs(pid);
      const started = performance.now();
      client.once("message", (result: HttpBatchResult) => {
        const seconds = (performance.now() - started) / 1000;
        const cpuAfter = cpuMs(pid);
        const cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / requests;
        if (result.failures.length > 0) reject(new Error(`POST ${server.ready.path}: ${result.failures.join("; ")}`));
        else resolve({ rate: requests / seconds, cpuUs });
      });
      client.send(message);
    });
  try {
    const execArgv = options.serverExecArgv ?? [];
    servers.push(await start("ours", execArgv), await start("oidc-provider", execArgv));
    const [ours, baseline] = servers as [Server, Server];
    // Warm-up: both JITs settle and oidc-provider's LRU fills to its bound before anything is timed.
    for (const server of servers) await batch(server, Math.max(1500, Math.min(options.requests, 3000)));
    const oursRounds: { rate: number; cpuUs: number | null }[] = [];
    const baselineRounds: { rate: number; cpuUs: number | null }[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // Alternating which goes first, so neither always runs on a warmer or cooler machine.
      if (round % 2 === 0) {
        oursRounds.push(await batch(ours, options.requests));
        baselineRounds.push(await batch(baseline, options.requests));
      } else {
        baselineRounds.push(await batch(baseline, options.requests));
        oursRounds.push(await batch(ours, options.requests));
      }
      const o = oursRounds.at(-1)!;
      const b = baselineRounds.at(-1)!;
      log(`registration round ${round + 1}/${options.rounds}: ours ${o.rate.toFixed(0)} req/s, oidc-provider ${b.rate.toFixed(0)} req/s (${(o.rate / b.rate).toFixed(2)}×)`);
    }
    const speed = spread(oursRounds.map((o, r) => o.rate / baselineRounds[r]!.rate));
    const withCpu = oursRounds.every((o) => o.cpuUs !== null) && baselineRounds.every((b) => b.cpuUs !== null);
    return {
      name: "POST /register (RFC 7591), memory store, node:http",
      ours: "createNodeRequestListener(createRegistrationHandler(registry, { accountId, baseUrl })) on a memory registry",
      baseline: "oidc-provider 9: features.registration { enabled, initialAccessToken: false }, default in-memory adapter, provider.callback() on node:http",
      oursRate: spread(oursRounds.map((o) => o.rate)).median,
      baselineRate: spread(baselineRounds.map((b) => b.rate)).median,
      speed,
      cpuUsPerRequest: {
        ours: withCpu ? spread(oursRounds.map((o) => o.cpuUs!)).median : null,
        baseline: withCpu ? spread(baselineRounds.map((b) => b.cpuUs!)).median : null,
      },
      speedCpu: withCpu ? spread(oursRounds.map((o, r) => baselineRounds[r]!.cpuUs! / o.cpuUs!)) : null,
      target: REGISTRATION_TARGET,
      met: speed.median >= REGISTRATION_TARGET,
      metCpu: withCpu ? spread(oursRounds.map((o, r) => baselineRounds[r]!.cpuUs! / o.cpuUs!)).median >= REGISTRATION_TARGET : null,
      rounds: {
        ours: oursRounds.map((o) => o.rate),
        baseline: baselineRounds.map((b) => b.rate),
        oursCpuUs: oursRounds.map((o) => o.cpuUs),
        baselineCpuUs: baselineRounds.map((b) => b.cpuUs),
      },
    };
  } finally {
    client.send("exit");
    await Promise.all(servers.map(stop));
  }
}
