// HTTP checks of scripts/runtimes.mjs, run from Node against a server that
// another runtime serves: the official `cloudflare` SDK, pointed at it with
// `baseURL`, as its users point it. Each check prints `✓ [label] what` or
// `✗ [label] what` with the reason, and counts as one case.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { isDeepStrictEqual } from "node:util";
import Cloudflare from "cloudflare";

const ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353";

const CREATE_BODY = {
  account_id: ACCOUNT,
  grant_types: ["authorization_code", "refresh_token"],
  redirect_uris: ["https://app.example.com/callback"],
  response_types: ["code"],
  scopes: ["profile"],
  token_endpoint_auth_method: "client_secret_basic",
};

function expectEqual(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Runs one check; resolves with `{ passed, failed }` counts of 1. */
export async function check(label, what, body) {
  try {
    await body();
    console.log(`✓ [${label}] ${what}`);
    return { passed: 1, failed: 0 };
  } catch (error) {
    console.log(`✗ [${label}] ${what}\n    ${String(error instanceof Error ? error.stack : error).replace(/\n/g, "\n    ")}`);
    return { passed: 0, failed: 1 };
  }
}

/** Adds up the counts of several checks. */
export function sum(counts) {
  return counts.reduce((total, c) => ({ passed: total.passed + c.passed, failed: total.failed + c.failed }), { passed: 0, failed: 0 });
}

const sdk = (baseURL, apiToken) => new Cloudflare({ apiToken, baseURL, maxRetries: 0 });

/**
 * create, get, list, rotate_secret, delete through the SDK; what it reads
 * back is what it wrote, and a deleted client is gone.
 */
export async function sdkRoundTrip(baseURL, apiToken) {
  const cf = sdk(baseURL, apiToken);
  const created = await cf.iam.oauthClients.create({ ...CREATE_BODY, client_name: "Round trip" });
  if (!/^[0-9a-f]{32}$/.test(created.client_id) || !created.client_secret) throw new Error(`create answered ${JSON.stringify(created)}`);
  expectEqual(created.scopes, ["profile", "offline_access"], "created scopes");
  const fetched = await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT });
  expectEqual([fetched.client_name, fetched.has_rotated_secret, "client_secret" in fetched], ["Round trip", false, false], "get");
  const listed = [];
  for await (const client of cf.iam.oauthClients.list({ account_id: ACCOUNT })) listed.push(client.client_id);
  if (!listed.includes(created.client_id)) throw new Error(`list does not show ${created.client_id}: ${JSON.stringify(listed)}`);
  const rotated = await cf.iam.oauthClients.rotateSecret(created.client_id, { account_id: ACCOUNT });
  if (!rotated.client_secret || rotated.client_secret === created.client_secret) throw new Error("rotate_secret gave no new secret");
  expectEqual((await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).has_rotated_secret, true, "has_rotated_secret after rotate");
  expectEqual(await cf.iam.oauthClients.delete(created.client_id, { account_id: ACCOUNT }), { id: created.client_id }, "delete");
  const gone = await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT }).catch((error) => error);
  if (!(gone instanceof Cloudflare.NotFoundError)) throw new Error(`get after delete: ${String(gone)}`);
}

/** Creates a client through the SDK; returns its id. */
export async function sdkCreate(baseURL, apiToken, clientName) {
  return (await sdk(baseURL, apiToken).iam.oauthClients.create({ ...CREATE_BODY, client_name: clientName })).client_id;
}

/** Reads a client through the SDK; throws unless it is there with that name. */
export async function sdkExpectClient(baseURL, apiToken, clientId, clientName) {
  const client = await sdk(baseURL, apiToken).iam.oauthClients.get(clientId, { account_id: ACCOUNT });
  expectEqual([client.client_id, client.client_name], [clientId, clientName], "client read back");
}

/**
 * Starts a server process and waits for the line matching `ready` (whose
 * first group is the API's base URL). Resolves with the URL, every line
 * printed so far, and `stop()`: SIGTERM, then the exit code.
 */
export async function startServer(command, args, { cwd, env, ready = /listening on (\S+)/, timeoutMs = 60_000 }) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(" ")} exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    /** SIGTERM, then the exit code; SIGKILL after 15 s, so that no server outlives the run. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const [code] = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
