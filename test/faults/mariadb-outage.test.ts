/**
 * `serve` on MariaDB survives the database going away. The test reaches the
 * server (MYSQL_URL) through a TCP proxy of its own, so the faults touch
 * only this `serve`'s connections: every open connection cut mid-flight
 * (several times, under load), then a full outage during which the proxy
 * accepts and drops every new connection, then the proxy refuses
 * connections outright. Throughout, the process stays up, every answer is
 * 200 or a 503 with the v4 envelope, `x-should-retry: true` and
 * `Retry-After`, service resumes by itself, and every acknowledged write is
 * there afterwards.
 *
 * Runs when MYSQL_URL is set; with REQUIRE_REAL_MARIADB=1 (CI) a missing URL
 * fails this file instead of skipping it.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { validCreateBody } from "../helpers/http.js";
import { expectOnlyRetryableOutages, spawnServe, type ApiReply, type ServeProcess } from "../helpers/serve-process.js";

const MYSQL_URL = process.env.MYSQL_URL || undefined;
if (!MYSQL_URL && process.env.REQUIRE_REAL_MARIADB === "1") {
  throw new Error("REQUIRE_REAL_MARIADB=1 but MYSQL_URL is not set");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP proxy to the database that can cut its connections and stop letting new ones through. */
class Proxy {
  mode: "open" | "drop" | "closed" = "open";
  private readonly pairs = new Set<[Socket, Socket]>();
  private server: Server | undefined;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly upstreamPort: number,
  ) {}

  async listen(port = 0): Promise<void> {
    this.server = createServer((client) => {
      if (this.mode !== "open") return void client.destroy();
      const upstream = connect(this.upstreamPort, this.host);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      for (const socket of pair) {
        socket.on("error", () => {});
        socket.on("close", () => {
          this.pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        });
      }
    });
    this.server.listen(port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Cuts every open connection; returns how many there were. */
  cut(): number {
    const count = this.pairs.size;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    return count;
  }

  /** Stops listening, so that connecting is refused. */
  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Tracked {
  id: string;
  acked: string;
  /** Names sent after the last acknowledged one whose outcome is unknown (503 or connection cut). */
  pending: string[];
}

const ACCOUNT = `faults-maria-${Date.now().toString(36)}`;

describe.skipIf(!MYSQL_URL)("serve on MariaDB: connections cut, database unreachable", () => {
  let server: ServeProcess | undefined;
  let proxy: Proxy | undefined;
  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
    await proxy?.close();
  });

  it("stays up, answers only 200 or 503 meanwhile, resumes, and loses no acknowledged write", async () => {
    const target = new URL(MYSQL_URL!);
    proxy = new Proxy(target.hostname, Number(target.port || 3306));
    await proxy.listen();
    const viaProxy = new URL(MYSQL_URL!);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    server = await spawnServe(["--database-url", viaProxy.toString(), "--no-console"], {});
    const s = server;
    const p = proxy;

    const tracked: Tracked[] = [];
    const statuses = new Map<number, number>();
    const unavailable: ApiReply[] = [];
    let stop = false;
    let serial = 0;
    const attempt = async (method: string, path: string, json?: unknown): Promise<ApiReply | null> => {
      let reply: ApiReply;
      try {
        reply = await s.call(method, path, json);
      } catch {
        return null; // the HTTP connection to serve failed: counted by the caller
      }
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status === 503) unavailable.push(reply);
      return reply;
    };
    let httpFailures = 0;

    async function worker(w: number): Promise<void> {
      const mine: Tracked[] = [];
      while (!stop) {
        if (mine.length < 3 || Math.random() < 0.15) {
          const name = `w${w}-c${serial++}-v0`;
          const reply = await attempt("POST", `/accounts/${ACCOUNT}/oauth_clients`, validCreateBody({ client_name: name, scopes: [] }));
          if (reply === null) httpFailures++;
          if (reply?.status === 200) {
            const t: Tracked = { id: (reply.body!.result as { client_id: string }).client_id, acked: name, pending: [] };
            mine.push(t);
            tracked.push(t);
          }
        } else {
          const t = mine[Math.floor(Math.random() * mine.length)]!;
          const name = `${t.acked.replace(/-v\d+$/, "")}-v${serial++}`;
          t.pending.push(name);
          const reply = await attempt("PATCH", `/accounts/${ACCOUNT}/oauth_clients/${t.id}`, { client_name: name });
          if (reply === null) httpFailures++;
          if (reply?.status === 200) {
            t.acked = name;
            t.pending = [];
          }
        }
        // Paced, so that the outage below sees requests without flooding the log.
        await sleep(5);
      }
    }

    const workers = Array.from({ length: 6 }, (_, w) =>
      worker(w).catch((error: unknown) => {
        stop = true;
        throw error;
      }),
    );
    await sleep(1000);

    // Every connection of the pool cut under load, five times.
    let cut = 0;
    for (let round = 0; round < 5; round++) {
      cut += p.cut();
      await sleep(400);
      expect(s.child.exitCode, s.stderr.slice(-30).join("\n")).toBeNull();
    }
    expect(cut).toBeGreaterThan(0);

    // The database unreachable: new connections dropped as soon as they open, then refused.
    p.mode = "drop";
    p.cut();
    const dropped = [
      await attempt("GET", `/accounts/${ACCOUNT}/oauth_clients?per_page=5`),
      await attempt("POST", `/accounts/${ACCOUNT}/oauth_clients`, validCreateBody({ scopes: [] })),
    ];
    for (const reply of dropped) expect(reply?.status).toBe(503);
    const port = p.port;
    await p.close();
    const refused = [
      await attempt("GET", `/accounts/${ACCOUNT}/oauth_clients?per_page=5`),
      await attempt("POST", `/accounts/${ACCOUNT}/oauth_clients`, validCreateBody({ scopes: [] })),
    ];
    for (const reply of refused) expect(reply?.status).toBe(503);
    await sleep(500);
    p.mode = "open";
    await p.listen(port);

    // Service resumes by itself.
    let resumed = false;
    for (let i = 0; i < 150 && !resumed; i++) {
      resumed = (await attempt("GET", `/accounts/${ACCOUNT}/oauth_clients?per_page=1`))?.status === 200;
      if (!resumed) await sleep(200);
    }
    expect(resumed).toBe(true);
    await sleep(1000);
    stop = true;
    await Promise.all(workers);
    expect(s.child.exitCode, s.stderr.slice(-30).join("\n")).toBeNull();
    expect(httpFailures, "requests serve itself failed to answer").toBe(0);

    // Every answer was a 200 or a well-formed 503.
    expectOnlyRetryableOutages(statuses, unavailable, s.stderr.slice(-30).join("\n"));

    // Every acknowledged write is present.
    expect(tracked.length).toBeGreaterThan(10);
    for (const t of tracked) {
      const reply = await s.call("GET", `/accounts/${ACCOUNT}/oauth_clients/${t.id}`);
      expect(reply.status, t.id).toBe(200);
      expect([t.acked, ...t.pending]).toContain((reply.body!.result as { client_name: string }).client_name);
    }
    // Removes this run's clients, those of creates whose answer was a 503 included.
    for (;;) {
      const page = await s.call("GET", `/accounts/${ACCOUNT}/oauth_clients?per_page=100`);
      const ids = (page.body!.result as { client_id: string }[]).map((c) => c.client_id);
      if (ids.length === 0) break;
      for (const id of ids) expect((await s.call("DELETE", `/accounts/${ACCOUNT}/oauth_clients/${id}`)).status).toBe(200);
    }

    expect(s.stderr.join("\n")).not.toMatch(/unhandled|uncaught/i);
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    console.log(`mariadb-outage: answers ${JSON.stringify(Object.fromEntries(statuses))}, ${cut} connections cut, ${tracked.length} clients checked`);
  });
});
