/**
 * `oauth-client-registry serve` as a real child process, for end-to-end and
 * fault-injection tests: spawn it, wait for its URL, call its API, kill it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Appends each complete line `stream` prints to `into`, as it arrives; a
 * last line without a newline is added when the stream ends.
 *
 * @example
 * const lines: string[] = []; collectLines(child.stdout!, lines);
 */
export function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    into.push(...lines);
  });
  stream.on("end", () => buffered && into.push(buffered));
}

/** A spawned `serve` process. */
export interface ServeProcess {
  child: ChildProcess;
  /** Base URL of the API (`http://127.0.0.1:<port>/client/v4`), once listening. */
  url: string;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
  /** Calls the API with the bearer token; the body is parsed when JSON. */
  call(method: string, path: string, json?: unknown): Promise<ApiReply>;
}

/** One API answer as a client sees it. */
export interface ApiReply {
  status: number;
  headers: Headers;
  body: { success?: boolean; result?: unknown; errors?: { code: number; message: string }[] } | null;
}

/**
 * Asserts what a database outage may show a client: every status a 200 or a
 * 503, at least one 503, and each 503 the v4 envelope with the retry
 * signals (`x-should-retry: true`, `Retry-After` of at least a second).
 *
 * @example
 * expectOnlyRetryableOutages(statuses, unavailable, server.stderr.slice(-30).join("\n"));
 */
export function expectOnlyRetryableOutages(statuses: ReadonlyMap<number, number>, unavailable: readonly ApiReply[], context = ""): void {
  expect([...statuses.keys()].filter((status) => status !== 200 && status !== 503), context).toEqual([]);
  expect(unavailable.length).toBeGreaterThan(0);
  for (const reply of unavailable) {
    expect(reply.headers.get("x-should-retry")).toBe("true");
    expect(Number(reply.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(reply.body).toMatchObject({ success: false, result: null, errors: [{ code: 1501 }] });
  }
}

/**
 * Spawns `serve` with `args` and resolves once it prints its URL.
 *
 * @example
 * const server = await spawnServe(["--db", file], { OAUTH_REGISTRY_API_TOKEN: "t" });
 * await server.call("GET", "/accounts/a/oauth_clients");
 */
export async function spawnServe(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const token = env.OAUTH_REGISTRY_API_TOKEN ?? "fault-test-token";
  const { DATABASE_URL: _url, OAUTH_REGISTRY_API_TOKEN: _token, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", ...args], {
    cwd: root,
    env: { ...inherited, ...env, OAUTH_REGISTRY_API_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exit = once(child, "exit").then(([code]) => code as number | null);
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const line = stdout.find((l) => l.includes("listening on "));
      if (line) {
        clearInterval(timer);
        resolve(/listening on (\S+)/.exec(line)![1]!);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`serve exited with ${child.exitCode}: ${stderr.join("\n")}`));
      }
    }, 20);
  });
  return {
    child,
    url,
    stdout,
    stderr,
    exit,
    async call(method, path, json) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { "content-type": "application/json" }) },
        body: json === undefined ? null : JSON.stringify(json),
      });
      const text = await response.text();
      let body: ApiReply["body"] = null;
      try {
        body = JSON.parse(text) as ApiReply["body"];
      } catch {
        body = null;
      }
      return { status: response.status, headers: response.headers, body };
    },
  };
}
