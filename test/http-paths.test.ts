/**
 * Paths are matched, never resolved: a dot segment or an encoded separator
 * must not move a request from one account's path into another's. Checked
 * on the fetch handler (for what survives the URL parser) and through the
 * node bridge over raw sockets, where the request line arrives untouched.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeRequestListener } from "../src/http/index.js";
import { findPathProblem } from "../src/http/path.js";
import { ACCOUNT, ADMIN_TOKEN, OTHER_ACCOUNT, apiRequest, createHarness, envelopeOf, validCreateBody, type Harness } from "./helpers/http.js";

const ATTACKER = ACCOUNT;
const VICTIM = OTHER_ACCOUNT;

async function victimClient(harness: Harness): Promise<string> {
  return (await harness.registry.create(VICTIM, validCreateBody() as never)).client_id;
}

describe("findPathProblem", () => {
  it.each([
    "/a/../b",
    "/a/./b",
    "/a/..",
    "/a/.",
    "..",
    "/a/%2e%2e/b",
    "/a/%2E%2e/b",
    "/a/%2E%2E/b",
    "/a/.%2e/b",
    "/a/%2e./b",
    "/a/%2e/b",
    "/a/%252e%252e/b",
    "/a/%25252E/b",
    "/a/b%2fc",
    "/a/b%2Fc",
    "/a/b%5cc",
    "/a/b%5Cc",
    "/a/b%252fc",
    "/a\\b",
  ])("refuses %s", (path) => {
    expect(findPathProblem(path)).toEqual(expect.any(String));
  });

  it.each(["/", "/client/v4/accounts/a/oauth_clients", "/a/.../b", "/a/.b/c", "/a/b./c", "/a/%2e%2e%2e/b", "/a/x%2e%2e/b", "/a/caf%C3%A9", "/a/%25/b", "/a//b"])(
    "accepts %s",
    (path) => {
      expect(findPathProblem(path)).toBeNull();
    },
  );
});

describe("fetch handler: what survives the URL parser is refused", () => {
  it.each(["%2f", "%2F", "%5c", "%5C", "%252f", "%252e%252e", "%25252e%25252e"])(
    "DELETE with %s in the path is a 400 bad_request and deletes nothing",
    async (encoded) => {
      const harness = createHarness();
      const id = await victimClient(harness);
      // %2f in the account segment would otherwise address the account "attacker/…".
      const request = apiRequest("DELETE", `/accounts/${ATTACKER}/oauth_clients/${encoded}/${encoded}/${VICTIM}/oauth_clients/${id}`);
      const response = await harness.handler(request);
      expect(response.status).toBe(400);
      const envelope = await envelopeOf(response);
      expect(envelope.errors).toHaveLength(1);
      expect(envelope.errors[0]).toMatchObject({ code: 1005, message: expect.stringMatching(/dot segment|encoded slash/) });
      expect((await harness.registry.get(VICTIM, id)).client_id).toBe(id);
    },
  );

  it("an account id containing a slash cannot be addressed (it used to be as %2F)", async () => {
    const { handler, registry } = createHarness({ authorize: () => true });
    await registry.create("team/one", validCreateBody() as never);
    const response = await handler(apiRequest("GET", "/accounts/team%2Fone/oauth_clients"));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors[0]!.code).toBe(1005);
  });

  it("a dot segment in the query is only data", async () => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("GET", `/accounts/${ATTACKER}/oauth_clients?x=/../%2e%2e/%2f`));
    expect(response.status).toBe(200);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** Sends a request line exactly as written (no client normalizes it) and returns the raw answer. */
async function rawRequest(port: number, method: string, target: string): Promise<{ status: number; body: string }> {
  const socket = connect(port, "127.0.0.1");
  socket.write(`${method} ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`);
  let raw = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (raw += chunk));
  await once(socket, "end");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  return { status, body: raw.slice(raw.indexOf("\r\n\r\n") + 4) };
}

const DOT_FORMS = ["..", "%2e%2e", "%2E%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e"];

describe("node bridge: the raw request line is checked before it becomes a Request", () => {
  it.each(DOT_FORMS)("DELETE …/attacker/oauth_clients/(%s twice)/victim/… is a 400 and the victim's client survives", async (dots) => {
    const harness = createHarness();
    const id = await victimClient(harness);
    const port = await listen(createServer(createNodeRequestListener(harness.handler)));
    const target = `/client/v4/accounts/${ATTACKER}/oauth_clients/${dots}/${dots}/${VICTIM}/oauth_clients/${id}`;
    const answer = await rawRequest(port, "DELETE", target);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ success: false, errors: [{ code: 1005 }], result: null });
    expect((await harness.registry.get(VICTIM, id)).client_id).toBe(id);
  });

  it.each(["/.", "/./x", "%2f", "%5C", "\\"])("a path with %s anywhere is a 400", async (part) => {
    const harness = createHarness();
    const port = await listen(createServer(createNodeRequestListener(harness.handler)));
    const answer = await rawRequest(port, "GET", `/client/v4/accounts/${ATTACKER}/oauth_clients${part}`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ code: 1005 }] });
  });

  it("the same route without dot segments works (control), and so does an absolute-form target", async () => {
    const harness = createHarness();
    const id = await victimClient(harness);
    const port = await listen(createServer(createNodeRequestListener(harness.handler)));
    expect((await rawRequest(port, "GET", `http://localhost/client/v4/accounts/${VICTIM}/oauth_clients/${id}`)).status).toBe(200);
    expect((await rawRequest(port, "GET", `http://localhost/client/v4/accounts/x/../${VICTIM}/oauth_clients/${id}`)).status).toBe(400);
    expect((await rawRequest(port, "DELETE", `/client/v4/accounts/${VICTIM}/oauth_clients/${id}`)).status).toBe(200);
    await expect(harness.registry.get(VICTIM, id)).rejects.toMatchObject({ code: "not_found" });
  });

  it("under Express the original URL is checked, not the one stripped of the mount path", async () => {
    const harness = createHarness();
    const id = await victimClient(harness);
    const app = express();
    app.use("/client/v4", createNodeRequestListener(harness.handler));
    const port = await listen(createServer(app));
    const answer = await rawRequest(port, "DELETE", `/client/v4/accounts/${ATTACKER}/oauth_clients/%2e%2e/%2e%2e/${VICTIM}/oauth_clients/${id}`);
    expect(answer.status).toBe(400);
    expect((await harness.registry.get(VICTIM, id)).client_id).toBe(id);
  });
});
