/**
 * The HTTP rows: our handler behind `createNodeRequestListener` against a
 * bare `node:http` server answering the same JSON, over real loopback HTTP
 * (keep-alive, a child-process client), and the in-process fetch handler
 * against the registry call it wraps. Both servers sit on the same memory
 * registry, so the rows measure the HTTP layer, not storage.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createMemoryStore } from "../adapters/memory.js";
import { bearerTokenAuthorize, createFetchHandler, createNodeRequestListener } from "../src/http/index.js";
import { createOAuthClientRegistry, type OAuthClient } from "../src/index.js";
import { interleave, type Clocks, type HarnessOptions, type RoundCosts, type Workload } from "./harness.js";
import type { HttpBatch, HttpBatchResult } from "./http-client.js";
import { CREATE_INPUT } from "./operations.js";
import { ACCOUNT, makePopulation, randomClientId, sha256Stored } from "./population.js";

const TOKEN = "bench-api-token-0123456789abcdef";
const BASE = "/client/v4";
/** Requests per timed call of an HTTP workload, and requests in flight. */
export const HTTP_BATCH = 50;
const CONCURRENCY = 4;

/** One HTTP comparison: per-round costs (µs per request) of ours and the baseline. */
export interface HttpComparison {
  name: string;
  ours: string;
  baseline: string;
  costs: Clocks;
}

/** TCP connections each server accepted: with keep-alive, one per request in flight. */
const connections = new WeakMap<Server, number>();

function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 60_000;
  connections.set(server, 0);
  server.on("connection", () => connections.set(server, connections.get(server)! + 1));
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

/** Constant-time bearer check, as an embedding server would write it. */
function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const header = request.headers.authorization ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  return timingSafeEqual(createHash("sha256").update(token).digest(), expected);
}

function sendJson(response: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), ...extra });
  response.end(body);
}

/**
 * A bare node:http server: the same routes for GET one client and POST
 * create, a Map of the same client objects, the same envelope; no
 * validation, no Request/Response objects.
 */
function bareServer(clients: Map<string, OAuthClient>): Server {
  const expected = createHash("sha256").update(TOKEN).digest();
  const prefix = `${BASE}/accounts/${ACCOUNT}/oauth_clients`;
  return createServer((request, response) => {
    if (!authorized(request, expected)) return sendJson(response, 401, { success: false, errors: [{ code: 10000, message: "unauthorized" }], messages: [], result: null });
    const url = request.url ?? "/";
    if (request.method === "GET" && url.startsWith(`${prefix}/`)) {
      const client = clients.get(url.slice(prefix.length + 1));
      if (!client) return sendJson(response, 404, { success: false, errors: [{ code: 1404, message: "not found" }], messages: [], result: null });
      return sendJson(response, 200, { success: true, errors: [], messages: [], result: client }, { etag: `"${client.updated_at}"` });
    }
    if (request.method === "POST" && url === prefix) {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        const at = new Date().toISOString();
        const secret = randomBytes(32).toString("base64url");
        const client = { ...input, client_id: randomClientId(), visibility: "private", has_rotated_secret: false, created_at: at, updated_at: at } as unknown as OAuthClient;
        clients.set(client.client_id, { ...client, secret_hash: sha256Stored(secret) } as OAuthClient);
        sendJson(response, 200, { success: true, errors: [], messages: [], result: { ...client, client_secret: secret } }, { "cache-control": "no-store" });
      });
      return;
    }
    sendJson(response, 404, { success: false, errors: [{ code: 1404, message: "no route" }], messages: [], result: null });
  });
}

/**
 * The node bridge around a fetch handler that does only the bare server's
 * work (bearer check, Map lookup, the same envelope): what the bridge and
 * the Fetch API's Request/Response cost by themselves, the ceiling our GET
 * row can reach through `createNodeRequestListener`.
 */
function bridgeOnlyServer(clients: Map<string, OAuthClient>): Server {
  const expected = createHash("sha256").update(TOKEN).digest();
  const prefix = `${BASE}/accounts/${ACCOUNT}/oauth_clients/`;
  const json = (status: number, value: unknown, extra: Record<string, string> = {}) =>
    new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json; charset=utf-8", ...extra } });
  return createServer(
    createNodeRequestListener(async (request) => {
      const header = request.headers.get("authorization") ?? "";
      const token = header.startsWith("Bearer ") ? header.slice(7) : "";
      if (!timingSafeEqual(createHash("sha256").update(token).digest(), expected)) return json(401, { success: false, errors: [], messages: [], result: null });
      const path = new URL(request.url).pathname;
      const client = path.startsWith(prefix) ? clients.get(path.slice(prefix.length)) : undefined;
      if (!client) return json(404, { success: false, errors: [{ code: 1404, message: "not found" }], messages: [], result: null });
      return json(200, { success: true, errors: [], messages: [], result: client }, { etag: `"${client.updated_at}"` });
    }),
  );
}

/** Asks the client process for one batch and waits for its answer. */
function batchOn(child: ChildProcess, batch: HttpBatch): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("message", (result: HttpBatchResult) => {
      if (result.failures.length > 0) reject(new Error(`HTTP requests failed on port ${batch.port}: ${result.failures.join(" | ")}`));
      else resolve();
    });
    child.send(batch);
  });
}

/** A workload of {@link HTTP_BATCH} requests per call; costs are divided by it afterwards. */
function httpWorkload(child: ChildProcess, batch: Omit<HttpBatch, "requests" | "concurrency" | "token">): Workload {
  return { run: () => batchOn(child, { ...batch, token: TOKEN, requests: HTTP_BATCH, concurrency: CONCURRENCY }) };
}

function perRequest(clocks: Clocks): Clocks {
  const divide = (costs: RoundCosts): RoundCosts =>
    Object.fromEntries(Object.entries(costs).map(([k, v]) => [k, v.map((us) => us / HTTP_BATCH)]));
  return { wall: divide(clocks.wall), cpu: divide(clocks.cpu) };
}

/**
 * Measures the three HTTP comparisons against a memory registry of
 * `clients` clients.
 *
 * @example
 * const rows = await measureHttp(1000, { rounds: 9, roundMs: 200 });
 */
export async function measureHttp(clients: number, options: HarnessOptions): Promise<HttpComparison[]> {
  const population = makePopulation(clients);
  const store = createMemoryStore();
  for (const record of population.records) await store.insert(record);
  const registry = createOAuthClientRegistry(store);
  const handler = createFetchHandler(registry, { authorize: bearerTokenAuthorize(TOKEN) });
  const wire = new Map<string, OAuthClient>();
  for (const record of population.readPool) wire.set(record.client_id, await registry.get(ACCOUNT, record.client_id));
  const paths = population.readPool.slice(0, 256).map((r) => `${BASE}/accounts/${ACCOUNT}/oauth_clients/${r.client_id}`);

  const ours = createServer(createNodeRequestListener(handler));
  const bare = bareServer(wire);
  const bridge = bridgeOnlyServer(wire);
  const [oursPort, barePort, bridgePort] = [await listen(ours), await listen(bare), await listen(bridge)];
  const child = fork(fileURLToPath(new URL("./http-client.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const createBody = JSON.stringify(CREATE_INPUT);
    const get = await interleave(
      {
        ours: httpWorkload(child, { port: oursPort, method: "GET", paths }),
        baseline: httpWorkload(child, { port: barePort, method: "GET", paths }),
      },
      options,
    );
    const bridgeOnly = await interleave(
      {
        ours: httpWorkload(child, { port: bridgePort, method: "GET", paths }),
        baseline: httpWorkload(child, { port: barePort, method: "GET", paths }),
      },
      options,
    );
    const post = await interleave(
      {
        ours: httpWorkload(child, { port: oursPort, method: "POST", paths: [`${BASE}/accounts/${ACCOUNT}/oauth_clients`], body: createBody }),
        baseline: httpWorkload(child, { port: barePort, method: "POST", paths: [`${BASE}/accounts/${ACCOUNT}/oauth_clients`], body: createBody }),
      },
      options,
    );
    const ids = population.readPool.map((r) => r.client_id);
    let n = 0;
    const inProcess = await interleave(
      {
        ours: {
          run: async () => {
            const id = ids[n++ % ids.length]!;
            const response = await handler(
              new Request(`http://localhost${BASE}/accounts/${ACCOUNT}/oauth_clients/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
            );
            if (response.status !== 200) throw new Error(`in-process GET answered ${response.status}`);
            return response.text();
          },
        },
        baseline: { run: () => registry.get(ACCOUNT, ids[n++ % ids.length]!) },
      },
      { ...options, roundMs: Math.max(5, options.roundMs / 10) },
    );
    // The same with requests built once: what the handler itself adds to
    // registry.get, without the caller's `new Request` (an AbortSignal, a
    // header list and URL parsing, about as costly as registry.get itself).
    const prebuilt = ids.slice(0, 256).map(
      (id) => new Request(`http://localhost${BASE}/accounts/${ACCOUNT}/oauth_clients/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    let m = 0;
    const inProcessReused = await interleave(
      {
        ours: {
          run: async () => {
            const response = await handler(prebuilt[m++ % prebuilt.length]!);
            if (response.status !== 200) throw new Error(`in-process GET answered ${response.status}`);
            return response.text();
          },
        },
        baseline: { run: () => registry.get(ACCOUNT, ids[m++ % prebuilt.length]!) },
      },
      { ...options, roundMs: Math.max(5, options.roundMs / 10) },
    );
    for (const server of [ours, bare, bridge]) {
      // Each workload's agent opens CONCURRENCY sockets per port; more means connections were not kept alive.
      if (connections.get(server)! > 3 * CONCURRENCY) throw new Error(`keep-alive not in effect: ${connections.get(server)} connections to one server`);
    }
    return [
      {
        name: "HTTP GET one client",
        ours: "createNodeRequestListener(createFetchHandler(…)) on node:http",
        baseline: "bare node:http server: bearer check, Map lookup, JSON.stringify of the same envelope",
        costs: perRequest(get),
      },
      {
        name: "HTTP GET, node bridge alone",
        ours: "createNodeRequestListener around a fetch handler doing only the bare server's work",
        baseline: "bare node:http server (as above)",
        costs: perRequest(bridgeOnly),
      },
      {
        name: "HTTP POST create",
        ours: "createNodeRequestListener(createFetchHandler(…)) on node:http",
        baseline: "bare node:http server: bearer check, read + JSON.parse the body, new id and secret + SHA-256, Map.set, JSON.stringify",
        costs: perRequest(post),
      },
      {
        name: "in-process fetch GET",
        ours: "createFetchHandler(…)(new Request(…)) and reading the body",
        baseline: "registry.get (the call the handler wraps)",
        costs: inProcess,
      },
      {
        name: "in-process fetch GET, requests built once",
        ours: "createFetchHandler(…)(request) on a prebuilt GET Request, reading the body",
        baseline: "registry.get (the call the handler wraps)",
        costs: inProcessReused,
      },
    ];
  } finally {
    child.send("exit");
    for (const server of [ours, bare, bridge]) {
      server.closeAllConnections();
      server.close();
    }
  }
}
