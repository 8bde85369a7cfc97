import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeRequestListener, type FetchHandler } from "../src/http/index.js";
import { ACCOUNT, ADMIN_TOKEN, createHarness, validCreateBody, type Harness } from "./helpers/http.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  if (!server.listening) {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** create → get → rotate over a real socket; the store must reflect each step. */
async function createGetRotate(origin: string, harness: Harness) {
  const base = `${origin}/client/v4/accounts/${ACCOUNT}/oauth_clients`;
  const created = await fetch(base, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(validCreateBody()),
  });
  expect(created.status).toBe(200);
  expect(created.headers.get("cache-control")).toBe("no-store");
  const client = ((await created.json()) as { result: { client_id: string; client_secret: string } }).result;

  const got = await fetch(`${base}/${client.client_id}`, { headers: auth });
  expect(got.status).toBe(200);
  expect(((await got.json()) as { result: { client_name: string } }).result.client_name).toBe("Dashboard");

  const rotated = await fetch(`${base}/${client.client_id}/rotate_secret`, { method: "POST", headers: auth });
  expect(rotated.status).toBe(200);
  const { client_secret } = ((await rotated.json()) as { result: { client_secret: string } }).result;
  expect((await harness.registry.authenticate(client.client_id, client_secret))?.matched).toBe("current");
  expect((await harness.registry.get(ACCOUNT, client.client_id)).has_rotated_secret).toBe(true);

  const missing = await fetch(`${origin}/client/v4/nope`, { headers: auth });
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { errors: { code: number }[] }).errors[0]!.code).toBe(1201);
}

describe("mounting the fetch handler", () => {
  it("plain node:http through createNodeRequestListener", async () => {
    const harness = createHarness();
    const origin = await listen(createServer(createNodeRequestListener(harness.handler)));
    await createGetRotate(origin, harness);
  });

  it("Hono, handing c.req.raw to the handler", async () => {
    const harness = createHarness();
    const app = new Hono();
    app.get("/health", (c) => c.text("ok"));
    app.all("/client/v4/*", (c) => harness.handler(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await once(server, "listening");
    const origin = await listen(server);
    await createGetRotate(origin, harness);
    expect(await (await fetch(`${origin}/health`)).text()).toBe("ok");
  });

  it("Express 5, mounted at its base path", async () => {
    const harness = createHarness();
    const app = express();
    app.get("/health", (_req, res) => {
      res.send("ok");
    });
    app.use("/client/v4", createNodeRequestListener(harness.handler));
    const origin = await listen(createServer(app));
    await createGetRotate(origin, harness);
    expect(await (await fetch(`${origin}/health`)).text()).toBe("ok");
  });

  it("Express 5 behind express.json(): the parsed body still reaches the handler", async () => {
    const harness = createHarness();
    const app = express();
    app.use(express.json());
    app.use(createNodeRequestListener(harness.handler));
    const origin = await listen(createServer(app));
    await createGetRotate(origin, harness);
  });

  it("a body over the limit is refused with 413 before it is all read", async () => {
    const harness = createHarness({ maxBodyBytes: 2048 });
    const origin = await listen(createServer(createNodeRequestListener(harness.handler)));
    const response = await fetch(`${origin}/client/v4/accounts/${ACCOUNT}/oauth_clients`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(validCreateBody({ client_name: "x".repeat(10_000) })),
    });
    expect(response.status).toBe(413);
    expect((await harness.registry.list(ACCOUNT)).clients).toEqual([]);
  });

  it("a malformed Host header is a 400 envelope, not a crash", async () => {
    const harness = createHarness();
    const origin = await listen(createServer(createNodeRequestListener(harness.handler)));
    const { port } = new URL(origin);
    const socket = connect(Number(port), "127.0.0.1");
    socket.write("GET /client/v4/oauth/scopes HTTP/1.1\r\nHost: bad host[\r\nConnection: close\r\n\r\n");
    let raw = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (raw += chunk));
    await once(socket, "end");
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(raw).toContain('"code":1005');
  });

  it("a handler that throws still yields a JSON 500 from the bridge", async () => {
    const throwing: FetchHandler = async () => {
      throw new Error("boom");
    };
    const reported: unknown[] = [];
    const origin = await listen(createServer(createNodeRequestListener(throwing, { onError: (e) => reported.push(e) })));
    const response = await fetch(`${origin}/anything`);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ success: false, errors: [{ code: 1500, message: "internal server error" }] });
    expect(reported).toHaveLength(1);
  });
});
