/**
 * `serve --registration` builds `registration_client_uri` from a configured
 * public URL (`--public-url`, `OAUTH_REGISTRY_PUBLIC_URL`), else from its own
 * listening address — never from a request's Host header or an absolute-form
 * request target, which whoever sends the request chooses.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { normalizePublicUrl, parseServeArgs } from "../src/cli/args.js";
import { StartupError } from "../src/cli/errors.js";
import { UsageError } from "../src/cli/errors.js";
import { serve } from "../src/cli/serve.js";

const work = mkdtempSync(join(tmpdir(), "ocr-public-url-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const METADATA = JSON.stringify({ client_name: "CLI tool", redirect_uris: ["http://127.0.0.1:7777/cb"], token_endpoint_auth_method: "none" });
let databases = 0;

async function start(flags: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const options = parseServeArgs(["--port", "0", "--db", join(work, `db-${databases++}.sqlite`), ...flags], env);
  const running = await serve(options, { OAUTH_REGISTRY_API_TOKEN: "t", ...env }, { out: (l) => stdout.push(l), err: (l) => stderr.push(l) });
  const { port } = new URL(running.url);
  return { running, port: Number(port), stdout, stderr };
}

/** A raw HTTP request, so that the Host header and the request target can be anything. */
function send(port: number, options: { method: string; path: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const registerWithForgedHost = (port: number, path = "/register") =>
  send(port, { method: "POST", path, headers: { host: "evil.example", "content-type": "application/json" }, body: METADATA });

describe("serve --public-url", () => {
  it("a forged Host header or absolute-form target gets a registration_client_uri on the configured URL", async () => {
    const { running, port, stdout } = await start(["--registration", "--public-url", "https://auth.example.com/"]);
    try {
      expect(stdout.some((line) => line.includes("dynamic client registration: POST https://auth.example.com/register"))).toBe(true);
      const created = await registerWithForgedHost(port);
      expect(created.status).toBe(201);
      const clientId = created.body.client_id as string;
      expect(created.body.registration_client_uri).toBe(`https://auth.example.com/register/${clientId}`);

      const absolute = await registerWithForgedHost(port, "http://evil.example/register");
      expect(absolute.status).toBe(201);
      expect(absolute.body.registration_client_uri).toBe(`https://auth.example.com/register/${absolute.body.client_id as string}`);

      // RFC 7592 read answers with the same URI, whatever Host the reader sends.
      const read = await send(port, {
        method: "GET",
        path: `/register/${clientId}`,
        headers: { host: "evil.example", authorization: `Bearer ${created.body.registration_access_token as string}` },
      });
      expect(read.status).toBe(200);
      expect(read.body.registration_client_uri).toBe(`https://auth.example.com/register/${clientId}`);
    } finally {
      await running.close();
    }
  });

  it("OAUTH_REGISTRY_PUBLIC_URL sets it when the flag is absent; a path prefix is kept", async () => {
    const { running, port } = await start(["--registration"], { OAUTH_REGISTRY_PUBLIC_URL: "https://auth.example.com/oauth" });
    try {
      const created = await registerWithForgedHost(port);
      expect(created.body.registration_client_uri).toBe(`https://auth.example.com/oauth/register/${created.body.client_id as string}`);
    } finally {
      await running.close();
    }
  });

  it("without a public URL: the listening address, said so at start-up, whatever the Host header", async () => {
    const { running, port, stdout, stderr } = await start(["--registration"]);
    try {
      const origin = `http://127.0.0.1:${port}`;
      expect(stdout.some((line) => line.includes(`registration_client_uri is built on ${origin}, the listening address`))).toBe(true);
      expect(stderr).toEqual([]);
      const created = await registerWithForgedHost(port);
      expect(created.body.registration_client_uri).toBe(`${origin}/register/${created.body.client_id as string}`);
    } finally {
      await running.close();
    }
  });

  it("warns at start-up when listening on every interface without a public URL", async () => {
    const { running, stderr } = await start(["--registration", "--host", "0.0.0.0"]);
    try {
      expect(stderr.some((line) => line.startsWith("warning: registration_client_uri points at http://0.0.0.0:"))).toBe(true);
    } finally {
      await running.close();
    }
  });

  it("parses the flag: needs --registration, wins over the variable, is normalized", () => {
    expect(parseServeArgs([], {})).toMatchObject({ publicUrl: null });
    expect(parseServeArgs(["--registration"], {})).toMatchObject({ publicUrl: null });
    expect(parseServeArgs(["--registration", "--public-url", "https://auth.example.com/"], {})).toMatchObject({ publicUrl: "https://auth.example.com" });
    expect(parseServeArgs(["--registration", "--public-url", "HTTPS://Auth.Example.com:443/a/"], {})).toMatchObject({ publicUrl: "https://auth.example.com/a" });
    expect(parseServeArgs(["--registration", "--public-url", "https://a.example"], { OAUTH_REGISTRY_PUBLIC_URL: "https://b.example" })).toMatchObject({
      publicUrl: "https://a.example",
    });
    expect(parseServeArgs(["--registration"], { OAUTH_REGISTRY_PUBLIC_URL: "" })).toMatchObject({ publicUrl: null });
    expect(() => parseServeArgs(["--public-url", "https://a.example"], {})).toThrow(new UsageError("--public-url needs --registration"));
  });

  it.each([
    ["http://auth.example.com", /must use https/],
    ["ftp://auth.example.com", /must use https/],
    ["auth.example.com", /must be an absolute URL/],
    ["/register", /must be an absolute URL/],
    ["https://auth.example.com/?x=1", /query or a fragment/],
    ["https://auth.example.com/?", /query or a fragment/],
    ["https://auth.example.com/#top", /query or a fragment/],
    ["https://user@auth.example.com", /user information/],
    ["https://@auth.example.com", /user information/],
  ])("refuses %s with a clear message", (value, message) => {
    expect(() => parseServeArgs(["--registration", "--public-url", value], {})).toThrow(message);
    expect(() => parseServeArgs(["--registration", "--public-url", value], {})).toThrow(/^--public-url /);
    expect(() => parseServeArgs([], { OAUTH_REGISTRY_PUBLIC_URL: value })).toThrow(/^OAUTH_REGISTRY_PUBLIC_URL /);
  });

  it("accepts http on a loopback host, for local use", () => {
    for (const value of ["http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787"]) {
      expect(normalizePublicUrl(value)).toBe(value);
    }
  });

  it("serve() refuses a bad publicUrl passed in code", async () => {
    const options = { ...parseServeArgs(["--port", "0", "--db", join(work, "bad.sqlite"), "--registration"], {}), publicUrl: "http://auth.example.com" };
    await expect(serve(options, { OAUTH_REGISTRY_API_TOKEN: "t" }, { out: () => {}, err: () => {} })).rejects.toThrow(StartupError);
  });
});
