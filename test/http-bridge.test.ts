/**
 * createNodeRequestListener serving createFetchHandler's handler directly
 * (no fetch Request/Response in between), and the handler's Response on Node.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { clientVersion } from "../src/index.js";
import { createNodeRequestListener, type AuthorizeContext } from "../src/http/index.js";
import { ACCOUNT, ADMIN_TOKEN, apiRequest, createHarness, envelopeOf, tokenAuthorize, validCreateBody, type Harness } from "./helpers/http.js";

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(harness: Harness): Promise<number> {
  const server = createServer(createNodeRequestListener(harness.handler));
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** One keep-alive connection that sends raw requests and reads whole responses (Content-Length framed). */
async function rawConnection(port: number) {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  await once(socket, "connect");
  let buffered = Buffer.alloc(0);
  let waiting: (() => void) | null = null;
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    waiting?.();
  });
  socket.on("close", () => waiting?.());
  /** The next response; `bodyless` for the answer to HEAD, which has none whatever its Content-Length says. */
  const next = async (bodyless = false): Promise<{ status: number; headers: string; body: string }> => {
    for (;;) {
      const end = buffered.indexOf("\r\n\r\n");
      if (end !== -1) {
        const head = buffered.subarray(0, end).toString("latin1");
        const length = bodyless ? 0 : Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length - end - 4 >= length) {
          const body = buffered.subarray(end + 4, end + 4 + length).toString("utf8");
          buffered = buffered.subarray(end + 4 + length);
          return { status: Number(head.slice(9, 12)), headers: head.toLowerCase(), body };
        }
      }
      if (socket.destroyed) throw new Error("connection closed before a whole response arrived");
      await new Promise<void>((resolve) => (waiting = resolve));
      waiting = null;
    }
  };
  return { socket, send: (raw: string | Buffer) => socket.write(raw), next };
}

const clientsPath = `/client/v4/accounts/${ACCOUNT}/oauth_clients`;

describe("the node bridge serving the handler directly", () => {
  it("leaves the global Request and Response untouched", async () => {
    const { Request: requestBefore, Response: responseBefore } = globalThis;
    const harness = createHarness();
    const port = await serve(harness);
    const response = await fetch(`http://127.0.0.1:${port}${clientsPath}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(globalThis.Request).toBe(requestBefore);
    expect(globalThis.Response).toBe(responseBefore);
  });

  it("gives authorize a Request: method, URL, headers as fetch joins them, and every other member", async () => {
    const seen: { url: string; method: string; repeated: string | null; names: string[]; signal: boolean; isRequest: boolean }[] = [];
    const harness = createHarness({
      authorize: (request: Request, context: AuthorizeContext) => {
        seen.push({
          url: request.url,
          method: request.method,
          repeated: request.headers.get("X-Repeated"),
          names: [...request.headers.keys()],
          signal: request.signal instanceof AbortSignal,
          isRequest: request instanceof Request,
        });
        return tokenAuthorize(request, context);
      },
    });
    const port = await serve(harness);
    const { send, next } = await rawConnection(port);
    send(
      `GET ${clientsPath}?per_page=5 HTTP/1.1\r\nHost: api.example.test:8080\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        "X-Repeated: one\r\nx-repeated:  two \r\n\r\n",
    );
    const answer = await next();
    expect(answer.status).toBe(200);
    expect(seen).toEqual([
      {
        url: `http://api.example.test:8080${clientsPath}?per_page=5`,
        method: "GET",
        repeated: "one, two",
        names: ["authorization", "host", "x-repeated"],
        signal: true,
        isRequest: true,
      },
    ]);
  });

  it("lets authorize read a clone of the body; the handler still gets the whole body", async () => {
    const bodies: string[] = [];
    const harness = createHarness({
      authorize: async (request: Request, context: AuthorizeContext) => {
        bodies.push(await request.clone().text());
        return tokenAuthorize(request, context);
      },
    });
    const port = await serve(harness);
    const body = JSON.stringify(validCreateBody());
    const response = await fetch(`http://127.0.0.1:${port}${clientsPath}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
    expect(bodies).toEqual([body]);
    expect((await harness.registry.list(ACCOUNT)).clients).toHaveLength(1);
  });

  it("refuses a chunked body once it passes the limit (413), stores nothing, and keeps the connection usable", async () => {
    const harness = createHarness({ maxBodyBytes: 1024 });
    const port = await serve(harness);
    const { send, next } = await rawConnection(port);
    const big = JSON.stringify(validCreateBody({ client_name: "x".repeat(3000) }));
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    send(
      `POST ${clientsPath} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(big.slice(0, 1500))}${chunk(big.slice(1500))}0\r\n\r\n`,
    );
    const refused = await next();
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body)).toMatchObject({ success: false, errors: [{ code: 1004 }] });
    expect((await harness.registry.list(ACCOUNT)).clients).toEqual([]);

    send(`GET ${clientsPath} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    const after = await next();
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ success: true, result: [] });
  });

  it("refuses a declared Content-Length over the limit unread, then reads past that body for the next request", async () => {
    const harness = createHarness({ maxBodyBytes: 1024 });
    const port = await serve(harness);
    const { send, next } = await rawConnection(port);
    const big = JSON.stringify(validCreateBody({ client_name: "y".repeat(3000) }));
    send(
      `POST ${clientsPath} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(big)}\r\n\r\n${big}`,
    );
    expect((await next()).status).toBe(413);
    send(`GET /client/v4/oauth/scopes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    const after = await next();
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ success: true, result_info: { count: 3 } });
    expect((await harness.registry.list(ACCOUNT)).clients).toEqual([]);
  });

  it.each([["a/b"], ["user@host"], ["host:99x"]])("answers a Host header %j that is not a plain host with 400", async (host) => {
    const harness = createHarness();
    const port = await serve(harness);
    const { send, next } = await rawConnection(port);
    send(`GET ${clientsPath} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    const answer = await next();
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ success: false, errors: [{ code: 1005 }] });
  });

  it("treats an empty Host like a missing one: the configured hostname", async () => {
    const urls: string[] = [];
    const harness = createHarness({
      authorize: (request: Request, context: AuthorizeContext) => {
        urls.push(request.url);
        return tokenAuthorize(request, context);
      },
    });
    const port = await serve(harness);
    const { send, next } = await rawConnection(port);
    send(`GET /client/v4/oauth/scopes HTTP/1.1\r\nHost:\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    expect((await next()).status).toBe(200);
    expect(urls).toEqual(["http://localhost/client/v4/oauth/scopes"]);
  });

  it("answers HEAD with the headers of GET, its Content-Length, and no body", async () => {
    const harness = createHarness();
    const client = await harness.registry.create(ACCOUNT, validCreateBody() as never);
    const port = await serve(harness);
    const { send, next } = await rawConnection(port);
    send(`HEAD ${clientsPath}/${client.client_id} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    const head = await next(true);
    expect(head.status).toBe(200);
    expect(head.headers).toContain(`etag: "v${clientVersion(client)}"`);
    expect(head.headers).toMatch(/content-length: [1-9]\d*/);
    // Nothing follows the headers: the next response on the connection starts right after them.
    send(`GET /client/v4/oauth/scopes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    const after = await next();
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ success: true });
  });
});

describe("the handler's Response", () => {
  it("reads the same envelope through text(), json(), body, arrayBuffer() and clone()", async () => {
    const harness = createHarness();
    const request = () => apiRequest("GET", `/accounts/${ACCOUNT}/oauth_clients`);
    const viaText = await (await harness.handler(request())).text();
    const viaJson = await (await harness.handler(request())).json();
    const viaBody = await new Response((await harness.handler(request())).body).text();
    const viaBuffer = new TextDecoder().decode(await (await harness.handler(request())).arrayBuffer());
    const original = await harness.handler(request());
    const copy = original.clone();
    expect(JSON.parse(viaText)).toEqual({ success: true, errors: [], messages: [], result: [], result_info: { count: 0 } });
    expect(viaJson).toEqual(JSON.parse(viaText));
    expect(viaBody).toBe(viaText);
    expect(viaBuffer).toBe(viaText);
    expect(await copy.text()).toBe(viaText);
    expect(await original.text()).toBe(viaText);
  });

  it("is a Response whose body can be read once", async () => {
    const harness = createHarness();
    const response = await harness.handler(apiRequest("GET", "/oauth/scopes"));
    expect(response).toBeInstanceOf(Response);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // The same mutable headers on every read, as middleware adding a header expects.
    response.headers.set("access-control-allow-origin", "https://app.example");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(response.clone().headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(response.bodyUsed).toBe(false);
    expect((await envelopeOf(response)).success).toBe(true);
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(() => response.clone()).toThrow(TypeError);
  });
});
