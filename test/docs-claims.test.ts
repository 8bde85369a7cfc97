/**
 * Claims the docs make that drifted from the code once: each is checked
 * against the behavior it describes.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { createNodeRequestListener } from "../src/http/index.js";
import { ACCOUNT, OTHER_ACCOUNT, apiRequest, createHarness, envelopeOf, validCreateBody } from "./helpers/http.js";

const doc = (name: string) => readFileSync(new URL(`../docs/${name}`, import.meta.url), "utf8");

describe("docs match the code", () => {
  it("maxWriteAttempts: the default the docs state is the number of attempts made", async () => {
    const inner = createMemoryStore();
    let updates = 0;
    // Every compare-and-swap loses, as if another writer always got there first.
    const store = { ...inner, update: async () => (updates++, false) };
    const registry = createOAuthClientRegistry(store);
    const client = await registry.create(ACCOUNT, validCreateBody({ scopes: [] }) as never);
    await expect(registry.update(ACCOUNT, client.client_id, { client_name: "x" })).rejects.toMatchObject({ code: "concurrent_modification" });

    const stated = [/up to `maxWriteAttempts`\s+times \(default (\d+)\)/.exec(doc("storage.md")), /\| `maxWriteAttempts` \| `(\d+)` \|/.exec(doc("api.md"))];
    for (const match of stated) expect(Number(match?.[1])).toBe(updates);
  });

  it("cursors: a forged, well-formed cursor only moves within the caller's account; a malformed one is 400 invalid_parameter", async () => {
    const { handler, registry } = createHarness();
    const own = [];
    for (let i = 0; i < 3; i++) own.push(await registry.create(ACCOUNT, validCreateBody() as never));
    const foreign = await registry.create(OTHER_ACCOUNT, validCreateBody() as never);
    const encode = (position: [string, string]) => Buffer.from(JSON.stringify(position)).toString("base64url");
    const list = async (cursor: string) => handler(apiRequest("GET", `/accounts/${ACCOUNT}/oauth_clients?per_page=10&cursor=${cursor}`));

    // The position of another account's client: accepted, and only ACCOUNT's clients after it come back.
    const forged = await list(encode([foreign.created_at, foreign.client_id]));
    expect(forged.status).toBe(200);
    const ids = ((await envelopeOf(forged)).result as { client_id: string }[]).map((c) => c.client_id);
    expect(ids).not.toContain(foreign.client_id);
    for (const id of ids) expect(own.map((c) => c.client_id)).toContain(id);

    // A position before everything: the whole account, nothing else.
    const start = await list(encode(["1970-01-01T00:00:00.000Z", "0"]));
    expect(((await envelopeOf(start)).result as unknown[]).length).toBe(3);

    for (const malformed of ["abc", "W10", encode(["only-one"] as never), "%00"]) {
      const response = await list(malformed);
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).errors[0]!.code).toBe(1002);
    }
  });
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe("answers Node.js gives before the handler runs (documented as not enveloped)", () => {
  it.each([
    ["a malformed request line", "GET /client/v4/oauth/scopes HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400],
    ["a non-ASCII byte in the path", "GET /client/v4/\xe9 HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["headers over maxHeaderSize", `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
  ])("%s → a bare %i", async (_name, request, status) => {
    const server = createServer(createNodeRequestListener(createHarness().handler));
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
    let raw = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (raw += chunk));
    socket.on("error", () => {});
    socket.write(Buffer.from(request, "latin1"));
    await new Promise((resolve) => socket.once("close", resolve));
    expect(raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(raw).not.toContain('"success"');
  });
});
