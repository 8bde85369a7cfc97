/**
 * `serve` on a real PostgreSQL server survives the database going away:
 * backends terminated under load, the cluster restarted (immediate mode,
 * i.e. crash recovery) under load, and a full outage. The process stays up,
 * requests during the outage get 503 with the v4 envelope, `x-should-retry:
 * true` and `Retry-After`, service resumes by itself, and every write that
 * was acknowledged is there afterwards.
 *
 * Needs DATABASE_URL and control of the cluster: FAULTS_PGDATA (its data
 * directory) and FAULTS_PG_BIN (the folder of pg_ctl), run as root so that
 * `su postgres` works. `.ci/run` provides all three.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { validCreateBody } from "../helpers/http.js";
import { expectOnlyRetryableOutages, spawnServe, type ApiReply, type ServeProcess } from "../helpers/serve-process.js";

const DATABASE_URL = process.env.DATABASE_URL;
const PGDATA = process.env.FAULTS_PGDATA;
const PG_BIN = process.env.FAULTS_PG_BIN;
const available = Boolean(DATABASE_URL && PGDATA && PG_BIN && existsSync(`${PG_BIN}/pg_ctl`));
if (!available && process.env.REQUIRE_REAL_POSTGRES === "1") {
  throw new Error("REQUIRE_REAL_POSTGRES=1 but DATABASE_URL, FAULTS_PGDATA or FAULTS_PG_BIN is missing");
}

function asPostgres(command: string): string {
  return execFileSync("su", ["postgres", "-c", command], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function pgCtl(action: string): void {
  asPostgres(`${PG_BIN}/pg_ctl -D ${PGDATA} -w -t 60 ${action} -l ${PGDATA}/log`);
}

function terminateBackends(): number {
  const database = new URL(DATABASE_URL!).pathname.slice(1);
  const out = asPostgres(
    `${PG_BIN}/psql -h 127.0.0.1 -p ${new URL(DATABASE_URL!).port || 5432} -U postgres -qtAc ` +
      `"select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = '${database}' and pid <> pg_backend_pid()"`,
  );
  return Number(out.trim());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the test knows about one client it created: acknowledged and possibly-applied names. */
interface Tracked {
  id: string;
  acked: string;
  /** Names sent after the last acknowledged one whose outcome is unknown (503 or connection cut). */
  pending: string[];
  deleted: "no" | "acked" | "maybe";
}

const ACCOUNT = `faults-pg-${Date.now().toString(36)}`;

describe.skipIf(!available)("serve on PostgreSQL: connection loss, restart and outage", () => {
  let server: ServeProcess | undefined;
  afterAll(async () => {
    if (PGDATA && PG_BIN) {
      try {
        asPostgres(`${PG_BIN}/pg_isready -h 127.0.0.1 -p ${new URL(DATABASE_URL!).port || 5432}`);
      } catch {
        pgCtl("start");
      }
    }
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
  });

  it("stays up, answers 503 while the database is gone, resumes, and loses no acknowledged write", async () => {
    server = await spawnServe(["--database-url", DATABASE_URL!], {});
    const s = server;
    const tracked: Tracked[] = [];
    const statuses = new Map<number, number>();
    const unavailable: ApiReply[] = [];
    let stop = false;
    let serial = 0;

    const record = (reply: ApiReply) => {
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status === 503) unavailable.push(reply);
      return reply;
    };
    const attempt = async (method: string, path: string, json?: unknown): Promise<ApiReply | null> => {
      try {
        return record(await s.call(method, path, json));
      } catch {
        return null; // connection-level failure: outcome unknown
      }
    };

    async function worker(w: number): Promise<void> {
      const mine: Tracked[] = [];
      while (!stop) {
        const live = mine.filter((t) => t.deleted === "no");
        const roll = Math.random();
        if (live.length < 4 || roll < 0.15) {
          const name = `w${w}-c${serial++}-v0`;
          const reply = await attempt("POST", `/accounts/${ACCOUNT}/oauth_clients`, validCreateBody({ client_name: name, scopes: [] }));
          if (reply?.status === 200) {
            const t: Tracked = { id: (reply.body!.result as { client_id: string }).client_id, acked: name, pending: [], deleted: "no" };
            mine.push(t);
            tracked.push(t);
          }
        } else if (roll < 0.22) {
          const t = live[Math.floor(Math.random() * live.length)]!;
          const reply = await attempt("DELETE", `/accounts/${ACCOUNT}/oauth_clients/${t.id}`);
          t.deleted = reply?.status === 200 ? "acked" : reply?.status === 404 ? "acked" : "maybe";
        } else {
          const t = live[Math.floor(Math.random() * live.length)]!;
          const name = `${t.acked.replace(/-v\d+$/, "")}-v${serial++}`;
          t.pending.push(name);
          const reply = await attempt("PATCH", `/accounts/${ACCOUNT}/oauth_clients/${t.id}`, { client_name: name });
          if (reply?.status === 200) {
            t.acked = name;
            t.pending = [];
          }
        }
      }
    }

    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    await sleep(1000);

    // Idle and checked-out pooled connections cut by the server, six times.
    for (let round = 0; round < 6; round++) {
      expect(terminateBackends()).toBeGreaterThanOrEqual(0);
      await sleep(400);
      expect(s.child.exitCode, s.stderr.slice(-30).join("\n")).toBeNull();
    }

    // Crash-restart of the cluster under load.
    pgCtl("restart -m immediate");
    await sleep(1500);
    expect(s.child.exitCode, s.stderr.slice(-30).join("\n")).toBeNull();

    // A full outage: every request meanwhile is a 503 with the retry signals.
    pgCtl("stop -m immediate");
    const duringOutage = [
      await attempt("GET", `/accounts/${ACCOUNT}/oauth_clients?per_page=5`),
      await attempt("POST", `/accounts/${ACCOUNT}/oauth_clients`, validCreateBody({ scopes: [] })),
    ];
    for (const reply of duringOutage) expect(reply?.status).toBe(503);
    await sleep(500);
    pgCtl("start");

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

    // Every non-success answer was a well-formed 503.
    expectOnlyRetryableOutages(statuses, unavailable);

    // Every acknowledged write is present.
    expect(tracked.length).toBeGreaterThan(10);
    for (const t of tracked) {
      const reply = await s.call("GET", `/accounts/${ACCOUNT}/oauth_clients/${t.id}`);
      if (t.deleted === "acked") {
        expect(reply.status, t.id).toBe(404);
        continue;
      }
      if (t.deleted === "maybe" && reply.status === 404) continue;
      expect(reply.status, t.id).toBe(200);
      expect([t.acked, ...t.pending]).toContain((reply.body!.result as { client_name: string }).client_name);
    }

    // The log names the lost connections; a clean stop still works.
    expect(s.stderr.join("\n")).not.toMatch(/unhandled|uncaught/i);
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
  });
});
