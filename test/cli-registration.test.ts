/**
 * `serve --registration`: dynamic client registration mounted at /register
 * next to the management API, off unless asked for. In-process through
 * `serve(options, env, output)`, over a real socket.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_REGISTRATION_ACCOUNT, parseServeArgs } from "../src/cli/args.js";
import { UsageError } from "../src/cli/errors.js";
import { DEFAULT_REGISTRATION_LIMITS } from "../src/cli/registration-guard.js";
import { serve } from "../src/cli/serve.js";

const work = mkdtempSync(join(tmpdir(), "ocr-registration-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TOKEN = "registration-cli-token";
const METADATA = { client_name: "CLI tool", redirect_uris: ["http://127.0.0.1:7777/cb"], token_endpoint_auth_method: "none" };
let databases = 0;

async function start(flags: string[]) {
  const stdout: string[] = [];
  const options = parseServeArgs(["--port", "0", "--db", join(work, `reg-${databases++}.sqlite`), "--log-format", "json", ...flags], {});
  const running = await serve(options, { OAUTH_REGISTRY_API_TOKEN: TOKEN }, { out: (l) => stdout.push(l), err: () => {} });
  return { running, origin: new URL(running.url).origin, stdout };
}

const register = (origin: string) =>
  fetch(`${origin}/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(METADATA) });

describe("serve --registration", () => {
  it("registers clients at /register into the --registration-account, visible in the management API with source dcr", async () => {
    const { running, origin, stdout } = await start(["--registration", "--registration-account", "mcp-clients"]);
    try {
      expect(stdout.some((line) => line.includes(`dynamic client registration: POST ${origin}/register`))).toBe(true);
      const created = await register(origin);
      expect(created.status).toBe(201);
      expect(created.headers.get("cache-control")).toBe("no-store");
      const body = (await created.json()) as { client_id: string; registration_access_token: string; registration_client_uri: string };
      expect(body.registration_client_uri).toBe(`${origin}/register/${body.client_id}`);

      const listed = await fetch(`${origin}/client/v4/accounts/mcp-clients/oauth_clients/${body.client_id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { result: unknown }).result).toMatchObject({ client_name: "CLI tool", source: "dcr" });

      const read = await fetch(body.registration_client_uri, { headers: { authorization: `Bearer ${body.registration_access_token}` } });
      expect(read.status).toBe(200);
      expect((await fetch(body.registration_client_uri)).status).toBe(401);
      // The management API still needs its own credentials.
      expect((await fetch(`${origin}/client/v4/accounts/mcp-clients/oauth_clients`)).status).toBe(401);

      const routes = stdout.flatMap((line) => (line.startsWith("{") ? [(JSON.parse(line) as { route: string | null }).route] : []));
      expect(routes).toEqual(expect.arrayContaining(["/register", "/register/{client_id}"]));
    } finally {
      await running.close();
    }
  });

  it("is off by default: /register is not a route", async () => {
    const { running, origin } = await start([]);
    try {
      const response = await register(origin);
      expect(response.status).toBe(404);
    } finally {
      await running.close();
    }
  });

  it("parses the flags: account default, --registration-account only with --registration and a valid account id", () => {
    expect(parseServeArgs([], {})).toMatchObject({ registration: false });
    expect(parseServeArgs(["--registration"], {})).toMatchObject({ registration: true, registrationAccount: DEFAULT_REGISTRATION_ACCOUNT });
    expect(DEFAULT_REGISTRATION_ACCOUNT).toBe("registered");
    expect(() => parseServeArgs(["--registration-account", "x"], {})).toThrow(new UsageError("--registration-account needs --registration"));
    expect(() => parseServeArgs(["--registration", "--registration-account", ""], {})).toThrow(/--registration-account: account id must be/);
    expect(() => parseServeArgs(["--registration", "--registration-account", "a\u0000b"], {})).toThrow(/control characters/);
  });
});

describe("serve --registration: limits against floods", () => {
  it("parses --registration-rate-limit, --registration-max-clients and --registration-idle-days (only with --registration; 0 turns one off)", () => {
    expect(parseServeArgs(["--registration", "--registration-rate-limit", "5", "--registration-max-clients", "0", "--registration-idle-days", "7"], {})).toMatchObject({
      registrationRateLimit: 5,
      registrationMaxClients: 0,
      registrationIdleDays: 7,
    });
    expect(() => parseServeArgs(["--registration-max-clients", "5"], {})).toThrow(new UsageError("--registration-max-clients needs --registration"));
    expect(() => parseServeArgs(["--registration", "--registration-idle-days", "1.5"], {})).toThrow(/--registration-idle-days must be a non-negative integer/);
    expect(DEFAULT_REGISTRATION_LIMITS).toEqual({ rateLimit: 30, maxClients: 10_000, idleDays: 30 });
  });

  it("two servers on one SQLite file share one rate-limit budget per client address; the startup log names the limits", async () => {
    const db = join(work, "shared-rate.sqlite");
    const flags = ["--registration", "--registration-rate-limit", "3"];
    const stdout: string[] = [];
    const open = () =>
      serve(parseServeArgs(["--port", "0", "--db", db, ...flags], {}), { OAUTH_REGISTRY_API_TOKEN: TOKEN }, { out: (l) => stdout.push(l), err: () => {} });
    const a = await open();
    const b = await open();
    try {
      expect(stdout).toContain("registration limits: 3 requests per client address per hour (kept in the database), at most 10000 clients, clients unused for 30 days purged hourly");
      const origins = [a, b].map((running) => new URL(running.url).origin);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await register(origins[i % 2]!)).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      const refused = await register(origins[0]!);
      expect(refused.headers.get("retry-after")).toBe("600");
      // The management API is not rate-limited.
      const listed = await fetch(`${origins[1]}/client/v4/accounts/registered/oauth_clients`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(((await listed.json()) as { result: unknown[] }).result).toHaveLength(3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("refuses registrations past --registration-max-clients with 429 and a message naming the cap", async () => {
    const { running, origin } = await start(["--registration", "--registration-max-clients", "2", "--registration-rate-limit", "0"]);
    try {
      expect((await register(origin)).status).toBe(201);
      expect((await register(origin)).status).toBe(201);
      const refused = await register(origin);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error_description: string }).error_description).toMatch(/maximum of 2 registered clients/);
    } finally {
      await running.close();
    }
  });
});
