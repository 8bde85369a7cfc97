/**
 * `serve`'s credentials: the environment's token and key + email, the
 * `--credentials` file (hashed entries limited to accounts and read or
 * read_write, checked strictly at start-up, reloaded on SIGHUP), and the
 * `hash-secret` command that makes its hashes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Cloudflare from "cloudflare";
import { afterAll, describe, expect, it } from "vitest";
import { parseServeArgs } from "../src/cli/args.js";
import { loadCredentialsFile, serveCredentials } from "../src/cli/credentials.js";
import { StartupError } from "../src/cli/errors.js";
import { main } from "../src/cli/main.js";
import { serve, type CliOutput } from "../src/cli/serve.js";
import { hashCredentialSecret } from "../src/http/index.js";
import { validCreateBody } from "./helpers/http.js";
import { spawnServe, type ServeProcess } from "./helpers/serve-process.js";

const work = mkdtempSync(join(tmpdir(), "ocr-creds-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let fileCount = 0;
function writeCredentials(content: unknown, path = join(work, `credentials-${++fileCount}.json`)): string {
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const ADMIN = "admin-token-0123456789abcdef0123456789";
const READER = "reader-token-0123456789abcdef012345678";
const KEY = "c2547eb745079dac9320b638f5e225cf483cc";
const EMAIL = "ops@example.com";
const VALID = {
  credentials: [
    { name: "admin", token_hash: hashCredentialSecret(ADMIN), accounts: "*", access: "read_write" },
    { name: "reader", token_hash: hashCredentialSecret(READER), accounts: ["acct-a"], access: "read" },
    { name: "sdk", email: EMAIL, key_hash: hashCredentialSecret(KEY), accounts: ["acct-a", "acct-b"], access: "read_write" },
  ],
};

function capture(): CliOutput & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

async function refusal(content: unknown): Promise<string> {
  const error = await loadCredentialsFile(writeCredentials(content)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StartupError);
  return (error as StartupError).message;
}

describe("the credentials file is checked strictly, every problem at once, secrets never echoed", () => {
  it("a valid file loads every entry", async () => {
    const loaded = await loadCredentialsFile(writeCredentials(VALID));
    expect(loaded.map((c) => c.name)).toEqual(["admin", "reader", "sdk"]);
  });

  it("names the file, each bad entry by index and name, and what is wrong", async () => {
    const message = await refusal({
      credentials: [
        { name: "ci", token_hash: "plaintext-token-pasted-here", accounts: "*", access: "read_write" },
        { name: "typo", token: "another-plaintext", accounts: "*", access: "read" },
        { token_hash: hashCredentialSecret("x"), accounts: "*", access: "write" },
        { email: EMAIL, accounts: ["a"], access: "read" },
      ],
    });
    expect(message).toMatch(/^credentials file .*credentials-\d+\.json is invalid/);
    expect(message).toMatch(/entry 1 \("typo"\): .*token/);
    expect(message).toMatch(/entry 2: access/);
    expect(message).not.toContain("plaintext");
  });

  it("reports hash formats, missing parts, accounts and repeated credentials", async () => {
    const message = await refusal({
      credentials: [
        { name: "ci", token_hash: "plaintext-token-pasted-here", accounts: "*", access: "read_write" },
        { email: EMAIL, accounts: ["a"], access: "read" },
        { token_hash: hashCredentialSecret("t"), accounts: [], access: "read" },
      ],
    });
    expect(message).toMatch(/entry 1: needs "token_hash", or "email" with "key_hash"/);
    const semantic = await refusal({
      credentials: [
        { name: "ci", token_hash: "plaintext-token-pasted-here", accounts: "*", access: "read_write" },
        { token_hash: hashCredentialSecret("t"), accounts: [], access: "read" },
        { token_hash: hashCredentialSecret("t"), accounts: ["a", "*"], access: "read" },
      ],
    });
    expect(semantic).toMatch(/entry 0 \("ci"\): token_hash: must be sha256\$ followed by 64 lowercase hex digits/);
    expect(semantic).toMatch(/entry 1: accounts must be "\*" or a non-empty list/);
    expect(semantic).toMatch(/entry 2: .*same credential as entry 1/);
    expect(semantic).not.toContain("plaintext");
  });

  it.each([
    ["not JSON", "{ credentials: [", /not valid JSON/],
    ["a bare array", "[]", /must be an object \{ "credentials": \[ … \] \}/],
    ["no entries", { credentials: [] }, /lists no credentials/],
    ["a repeated member", `{"credentials":[{"token_hash":"${hashCredentialSecret("a")}","token_hash":"${hashCredentialSecret("b")}","accounts":"*","access":"read"}]}`, /member \/credentials\/0\/token_hash appears more than once/],
  ])("refuses %s", async (_name, content, message) => {
    expect(await refusal(content)).toMatch(message);
  });

  it("the example file of docs/http.md loads as documented", async () => {
    const doc = readFileSync(new URL("../docs/http.md", import.meta.url), "utf8");
    const example = /```json\n(\{\n {2}"credentials"[\s\S]*?)\n```/.exec(doc)?.[1];
    const loaded = await loadCredentialsFile(writeCredentials(example!));
    expect(loaded.map((c) => [c.name, c.accounts === "*" ? "*" : c.accounts.length, c.access])).toEqual([
      ["deploy", "*", "read_write"],
      ["terraform", 1, "read_write"],
      ["audit", 2, "read"],
    ]);
  });

  it("a missing file is a start-up error naming it", async () => {
    await expect(loadCredentialsFile(join(work, "missing.json"))).rejects.toThrow(/cannot read the credentials file .*missing\.json/);
  });
});

describe("serve with a credentials file and the environment's key + email", () => {
  it("answers 200, 401 and 403 by credential, account and access; prints no generated token", async () => {
    const output = capture();
    const options = parseServeArgs(["--port", "0", "--db", join(work, "inproc.sqlite"), "--credentials", writeCredentials(VALID)], {});
    const running = await serve(options, { OAUTH_REGISTRY_API_KEY: "env-key-0123456789abcdef0123456789ab", OAUTH_REGISTRY_API_EMAIL: "env@example.com" }, output);
    try {
      const call = (method: string, account: string, headers: Record<string, string>) =>
        fetch(`${running.url}/accounts/${account}/oauth_clients`, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          body: method === "POST" ? JSON.stringify(validCreateBody({ scopes: [] })) : null,
        }).then((r) => r.status);
      expect(await call("POST", "acct-z", { authorization: `Bearer ${ADMIN}` })).toBe(200);
      expect(await call("GET", "acct-a", { authorization: `Bearer ${READER}` })).toBe(200);
      expect(await call("POST", "acct-a", { authorization: `Bearer ${READER}` })).toBe(403);
      expect(await call("GET", "acct-b", { authorization: `Bearer ${READER}` })).toBe(403);
      expect(await call("POST", "acct-b", { "x-auth-key": KEY, "x-auth-email": EMAIL })).toBe(200);
      expect(await call("GET", "acct-c", { "x-auth-key": KEY, "x-auth-email": EMAIL })).toBe(403);
      expect(await call("POST", "acct-c", { "x-auth-key": "env-key-0123456789abcdef0123456789ab", "x-auth-email": "env@example.com" })).toBe(200);
      expect(await call("GET", "acct-a", { authorization: "Bearer unknown" })).toBe(401);
      expect(await call("GET", "acct-a", {})).toBe(401);
      const printed = [...output.stdout, ...output.stderr].join("\n");
      expect(printed).not.toMatch(/generated/);
      expect(printed).toMatch(/API credentials: OAUTH_REGISTRY_API_KEY \+ OAUTH_REGISTRY_API_EMAIL, 3 from /);
      expect(printed).not.toContain(KEY);
      expect(printed).not.toContain("env-key-");
    } finally {
      await running.close();
    }
  });

  it.each([
    [["--credentials", "CREDS_BAD"], {}, /credentials file .* is invalid:\n {2}entry 0: access/],
    [[], { OAUTH_REGISTRY_API_KEY: "k" }, /OAUTH_REGISTRY_API_KEY and OAUTH_REGISTRY_API_EMAIL must be set together/],
    [[], { OAUTH_REGISTRY_API_TOKEN: "two words" }, /OAUTH_REGISTRY_API_TOKEN must be at most 1024 characters without whitespace/],
    [["--credentials", "CREDS_REPEAT"], { OAUTH_REGISTRY_API_TOKEN: ADMIN }, /entry 0: is the same credential as OAUTH_REGISTRY_API_TOKEN/],
  ])("refuses to start (exit 1): %j %j", async (args, env, message) => {
    const files: Record<string, string> = {
      CREDS_BAD: writeCredentials({ credentials: [{ token_hash: hashCredentialSecret("t"), accounts: "*", access: "all" }] }),
      CREDS_REPEAT: writeCredentials({ credentials: [{ token_hash: hashCredentialSecret(ADMIN), accounts: "*", access: "read" }] }),
    };
    const output = capture();
    const code = await main(["serve", "--port", "0", "--db", join(work, "refused.sqlite"), ...args.map((a) => files[a] ?? a)], env, output);
    expect(code).toBe(1);
    expect(output.stderr.join("\n")).toMatch(message);
  });
});

describe("the accounts the credentials name (swept for pending client_uri checks at start)", () => {
  it("lists each named account once, in file order, none for \"*\", and follows a reload", async () => {
    const entry = (token: string, accounts: "*" | string[]) => ({ token_hash: hashCredentialSecret(token), accounts, access: "read" });
    const file = writeCredentials({ credentials: [entry(ADMIN, ["acct-b", "acct-a"]), entry(READER, ["acct-a", "acct-c"])] });
    const credentials = await serveCredentials(file, { OAUTH_REGISTRY_API_TOKEN: "env-token-0123456789abcdef0123456789ab" }, () => {});
    expect(credentials.accounts()).toEqual(["acct-b", "acct-a", "acct-c"]);
    writeCredentials({ credentials: [entry(ADMIN, "*"), entry(READER, ["acct-d"])] }, file);
    await credentials.reload!();
    expect(credentials.accounts()).toEqual(["acct-d"]);
    const none = await serveCredentials(null, { OAUTH_REGISTRY_API_TOKEN: "env-token-0123456789abcdef0123456789ab" }, () => {});
    expect(none.accounts()).toEqual([]);
  });
});

describe("hash-secret prints the hash a credentials file holds", () => {
  const run = async (args: string[], stdin: string) => {
    const output = capture();
    const code = await main(["hash-secret", ...args], {}, output, async () => stdin);
    return { code, ...output };
  };

  it("hashes stdin, ignoring one trailing newline, and never prints the secret", async () => {
    const result = await run([], `${ADMIN}\n`);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual([hashCredentialSecret(ADMIN)]);
    expect([...result.stdout, ...result.stderr].join("\n")).not.toContain(ADMIN);
  });

  it("warns about a short secret, refuses an empty one or one with spaces, and takes no arguments", async () => {
    expect((await run([], "short")).stderr.join("\n")).toMatch(/warning: a secret shorter than 32/);
    expect((await run([], "\n")).code).toBe(2);
    expect((await run([], "two words")).code).toBe(2);
    expect((await run(["my-secret"], "")).code).toBe(2);
  });
});

describe("SIGHUP reloads the credentials file of a running serve", () => {
  let server: ServeProcess | undefined;
  afterAll(() => {
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
  });

  async function waitForLine(lines: string[], pattern: RegExp, from: number): Promise<void> {
    for (;;) {
      if (lines.slice(from).some((line) => pattern.test(line))) return;
      if (server!.child.exitCode !== null) throw new Error(`serve exited: ${server!.stderr.join("\n")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("a valid file replaces the credentials at once; an invalid one is refused and the old ones stay", async () => {
    const file = writeCredentials({ credentials: [{ token_hash: hashCredentialSecret(ADMIN), accounts: "*", access: "read_write" }] });
    server = await spawnServe(["--db", join(work, "sighup.sqlite"), "--credentials", file], {
      OAUTH_REGISTRY_API_TOKEN: "env-token",
      OAUTH_REGISTRY_API_KEY: KEY,
      OAUTH_REGISTRY_API_EMAIL: EMAIL,
    });
    const status = (token: string) =>
      fetch(`${server!.url}/accounts/acct-a/oauth_clients`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await status(ADMIN)).toBe(200);
    expect(await status(READER)).toBe(401);

    // The SDK's own default credentials against the real command.
    const sdk = new Cloudflare({ apiKey: KEY, apiEmail: EMAIL, apiToken: null, baseURL: server.url, maxRetries: 0 });
    const created = await sdk.iam.oauthClients.create({
      account_id: "acct-a",
      client_name: "sdk app",
      grant_types: ["authorization_code"],
      redirect_uris: ["https://example.com/callback"],
      response_types: ["code"],
      scopes: [],
      token_endpoint_auth_method: "client_secret_basic",
    });
    const listed = [];
    for await (const client of sdk.iam.oauthClients.list({ account_id: "acct-a" })) listed.push(client.client_id);
    expect(listed).toEqual([created.client_id]);

    writeCredentials({ credentials: [{ token_hash: hashCredentialSecret(READER), accounts: ["acct-a"], access: "read" }] }, file);
    let from = server.stdout.length;
    server.child.kill("SIGHUP");
    await waitForLine(server.stdout, /SIGHUP: credentials reloaded from .* \(1 entries\)/, from);
    expect(await status(READER)).toBe(200);
    expect(await status(ADMIN)).toBe(401);
    expect(await status("env-token")).toBe(200);

    writeCredentials("{ not json", file);
    from = server.stderr.length;
    server.child.kill("SIGHUP");
    await waitForLine(server.stderr, /the previous credentials stay in force/, from);
    expect(server.stderr.join("\n")).toMatch(/error: SIGHUP: credentials file .* is invalid:\n {2}not valid JSON/);
    expect(await status(READER)).toBe(200);
    expect(await status(ADMIN)).toBe(401);

    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
    expect([...server.stdout, ...server.stderr].join("\n")).not.toMatch(new RegExp(`${ADMIN}|${READER}|${KEY}`));
  });
});
