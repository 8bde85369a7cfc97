/**
 * Operating `serve`: /healthz and /readyz outside the API and without
 * credentials, Prometheus /metrics only with --metrics, and the JSON access
 * log. All in-process through `serve(options, env, output)`.
 */
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register as globalPromRegistry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { createOAuthClientRegistry } from "../src/index.js";
import { createMemoryStore } from "../adapters/memory.js";
import { parseServeArgs } from "../src/cli/args.js";
import { formatAccessLine, routeTemplate } from "../src/cli/access-log.js";
import { operationsAnswer, storageReadiness } from "../src/cli/health.js";
import { createServeMetrics } from "../src/cli/metrics.js";
import { serve, type RunningServer } from "../src/cli/serve.js";
import type { ClientStore } from "../src/model/store.js";
import { validCreateBody } from "./helpers/http.js";

const work = mkdtempSync(join(tmpdir(), "ocr-ops-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TOKEN = "ops-token";
const ACCOUNT = "acct-ops";
let databases = 0;

/** Starts serve in this process with the given extra flags, capturing its output. */
async function start(flags: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const options = parseServeArgs(["--port", "0", "--db", join(work, `ops-${databases++}.sqlite`), ...flags], {});
  const running = await serve(options, { OAUTH_REGISTRY_API_TOKEN: TOKEN }, { out: (l) => stdout.push(l), err: (l) => stderr.push(l) });
  const origin = new URL(running.url).origin;
  // Start-up lines (the credentials in use, the listening address) are not access-log lines.
  const accessLines = () =>
    stdout.filter((line) => !line.startsWith("oauth-client-registry listening") && !line.startsWith("API credentials") && !line.startsWith("operator console"));
  return { running, origin, stdout, stderr, accessLines };
}

/** Sends a request with the path exactly as given (no URL parser in between). */
function raw(origin: string, method: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(origin);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Waits (by event-loop turns, not by time) until `count` access lines were written. */
async function linesWritten(lines: () => string[], count: number) {
  for (let turn = 0; turn < 1000 && lines().length < count; turn++) await new Promise((r) => setImmediate(r));
  expect(lines().length).toBeGreaterThanOrEqual(count);
}

async function stop(running: RunningServer) {
  await running.close();
}

describe("health endpoints", () => {
  it("answer /healthz and /readyz without credentials, with nothing but a status word", async () => {
    const { running, origin } = await start([]);
    try {
      for (const path of ["/healthz", "/readyz", "/healthz?probe=1"]) {
        const answer = await raw(origin, "GET", path);
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toEqual({ status: "ok" });
        expect(answer.headers["cache-control"]).toBe("no-store");
      }
      const head = await raw(origin, "HEAD", "/readyz");
      expect([head.status, head.body]).toEqual([200, ""]);
      const post = await raw(origin, "POST", "/healthz");
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe("GET, HEAD");
    } finally {
      await stop(running);
    }
  });

  it.each([
    ["/client/v4/healthz", 404],
    ["/healthz/", 404],
    ["//healthz", 404],
    ["/%68ealthz", 404],
    ["/HEALTHZ", 404],
    ["/client/v4/../../readyz", 400],
    ["/client/v4/%2e%2e/%2e%2e/healthz", 400],
    ["/metrics", 404],
  ])("are reachable at their exact path only: %s answers %i from the API", async (path, status) => {
    const { running, origin } = await start([]);
    try {
      const answer = await raw(origin, "GET", path);
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.body)).toMatchObject({ success: false });
    } finally {
      await stop(running);
    }
  });

  it("/readyz answers 503 while storage fails, without saying why, and recovers", async () => {
    let failing = true;
    const memory = createMemoryStore();
    const store: ClientStore = {
      ...memory,
      getById: async (id) => {
        if (failing) throw Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:5432 password=hunter2"), { code: "ECONNREFUSED" });
        return memory.getById(id);
      },
    };
    const changes: string[] = [];
    const ready = storageReadiness(store, (up, reason) => changes.push(`${up}:${reason}`));
    const down = (await operationsAnswer("GET", "/readyz", { ready, metrics: null }))!;
    expect(down.status).toBe(503);
    const body = await down.text();
    expect(JSON.parse(body)).toEqual({ status: "unavailable" });
    expect(body).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|hunter2/);
    expect((await operationsAnswer("GET", "/healthz", { ready, metrics: null }))!.status).toBe(200);
    failing = false;
    expect((await operationsAnswer("GET", "/readyz", { ready, metrics: null }))!.status).toBe(200);
    expect(changes).toEqual([expect.stringMatching(/^false:connect ECONNREFUSED/), "true:"]);
  });
});

describe("metrics", () => {
  it("are off by default and, with --metrics, count requests by route template and status without ids", async () => {
    const { running, origin, accessLines } = await start(["--metrics"]);
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const created = await fetch(`${running.url}/accounts/${ACCOUNT}/oauth_clients`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(validCreateBody()),
      });
      expect(created.status).toBe(200);
      const clientId = ((await created.json()) as { result: { client_id: string } }).result.client_id;
      expect((await fetch(`${running.url}/accounts/${ACCOUNT}/oauth_clients/${clientId}`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${running.url}/accounts/${ACCOUNT}/oauth_clients`)).status).toBe(401);
      expect((await fetch(`${running.url}/no/such/route/${ACCOUNT}`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      await linesWritten(accessLines, 5);

      const scraped = await fetch(`${origin}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await scraped.text();
      const clients = "/client/v4/accounts/{account_id}/oauth_clients";
      expect(text).toContain(`oauth_registry_http_requests_total{method="POST",route="${clients}",status="200"} 1`);
      expect(text).toContain(`oauth_registry_http_requests_total{method="GET",route="${clients}/{oauth_client_id}",status="200"} 1`);
      expect(text).toContain(`oauth_registry_http_requests_total{method="GET",route="${clients}",status="401"} 1`);
      expect(text).toContain('oauth_registry_http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect(text).toContain('oauth_registry_http_requests_total{method="GET",route="/healthz",status="200"} 1');
      expect(text).toContain(`oauth_registry_http_request_duration_seconds_count{method="POST",route="${clients}"} 1`);
      expect(text).toMatch(/oauth_registry_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="[^"]+"\} \d/);
      expect(text).toContain('oauth_registry_client_authentications_total{outcome="success",secret="rotated"} 0');
      // Raw paths, ids and the token never become labels.
      expect(text).not.toContain(ACCOUNT);
      expect(text).not.toContain(clientId);
      expect(text).not.toContain(TOKEN);
      // Its own registry: nothing lands in prom-client's global default registry.
      expect(await globalPromRegistry.metrics()).not.toContain("oauth_registry_");
    } finally {
      await stop(running);
    }
  });

  it("count authentications by outcome and by matched secret, fed by the registry's onEvent", async () => {
    const metrics = createServeMetrics();
    const registry = createOAuthClientRegistry(createMemoryStore(), { onEvent: metrics.onRegistryEvent });
    const client = await registry.create("acct", validCreateBody() as never);
    expect(await registry.authenticate(client.client_id, client.client_secret!)).not.toBeNull();
    await registry.rotateSecret("acct", client.client_id);
    expect((await registry.authenticate(client.client_id, client.client_secret!))?.matched).toBe("rotated");
    expect(await registry.authenticate(client.client_id, "wrong")).toBeNull();
    expect(await registry.authenticate("0".repeat(32), "whatever")).toBeNull();
    // Events are delivered without being awaited; let them land.
    await new Promise((r) => setImmediate(r));
    const text = await metrics.registry.metrics();
    expect(text).toContain('oauth_registry_client_authentications_total{outcome="success",secret="current"} 1');
    expect(text).toContain('oauth_registry_client_authentications_total{outcome="success",secret="rotated"} 1');
    expect(text).toContain('oauth_registry_client_authentications_total{outcome="invalid_secret",secret="none"} 1');
    expect(text).toContain('oauth_registry_client_authentications_total{outcome="unknown_client",secret="none"} 1');
    expect(text).not.toContain(client.client_id);
  });
});

describe("access log", () => {
  it("--log-format json writes one object per request: time, method, raw path, route, status, duration; no query or headers", async () => {
    const { running, origin, accessLines } = await start(["--log-format", "json"]);
    try {
      const secretish = "q-secret-value";
      await fetch(`${running.url}/accounts/${ACCOUNT}/oauth_clients?per_page=1&note=${secretish}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      await raw(origin, "GET", "/client/v4/accounts/a/oauth_clients/%2e%2e/%2e%2e/b/oauth_clients");
      await raw(origin, "GET", "/readyz");
      await linesWritten(accessLines, 3);
      const entries = accessLines().map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries.map((e) => Object.keys(e).sort())).toEqual(
        Array(3).fill(["aborted", "duration_ms", "method", "path", "route", "status", "time"]),
      );
      expect(entries[0]).toMatchObject({
        method: "GET",
        path: `/client/v4/accounts/${ACCOUNT}/oauth_clients`,
        route: "/client/v4/accounts/{account_id}/oauth_clients",
        status: 200,
        aborted: false,
      });
      expect(entries[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(typeof entries[0]!.duration_ms).toBe("number");
      expect(entries[1]).toMatchObject({ path: "/client/v4/accounts/a/oauth_clients/%2e%2e/%2e%2e/b/oauth_clients", route: null, status: 400 });
      expect(entries[2]).toMatchObject({ path: "/readyz", route: "/readyz", status: 200 });
      const all = accessLines().join("\n");
      expect(all).not.toContain(secretish);
      expect(all).not.toContain(TOKEN);
    } finally {
      await stop(running);
    }
  });

  it("keeps the text format by default and refuses an unknown format", () => {
    const entry = { time: "2025-01-31T10:00:00.000Z", method: "GET", path: "/healthz", route: "/healthz", status: null, durationMs: 4.24 };
    expect(formatAccessLine(entry, "text")).toBe("2025-01-31T10:00:00.000Z GET /healthz aborted 4.2ms");
    expect(JSON.parse(formatAccessLine(entry, "json"))).toMatchObject({ status: null, aborted: true, duration_ms: 4.2 });
    expect(parseServeArgs([], {})).toMatchObject({ logFormat: "text", metrics: false });
    expect(() => parseServeArgs(["--log-format", "xml"], {})).toThrow(/--log-format must be one of text, json/);
  });

  it("labels routes from a fixed set of templates", () => {
    expect(routeTemplate("/client/v4/accounts/a%20b/oauth_clients/x/rotate_secret/", "/client/v4", [])).toBe(
      "/client/v4/accounts/{account_id}/oauth_clients/{oauth_client_id}/rotate_secret",
    );
    expect(routeTemplate("/client/v4/oauth/scopes", "/client/v4", [])).toBe("/client/v4/oauth/scopes");
    expect(routeTemplate("/client/v4/%zz", "/client/v4", [])).toBeNull();
    expect(routeTemplate("/metrics", "/client/v4", ["/healthz"])).toBeNull();
  });
});
