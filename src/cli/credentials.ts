/**
 * The credentials of `serve`: the shared token and the SDK's key + email
 * from the environment, and the `--credentials` file of several hashed
 * tokens and key + email pairs, each limited to accounts and to read or
 * read/write, reloadable on SIGHUP.
 */
import { readFile } from "node:fs/promises";
import * as z from "zod";
import {
  createCredentialsAuthorizer,
  hashCredentialSecret,
  MAX_CREDENTIAL_SECRET_LENGTH,
  validateCredentials,
  type ApiCredential,
  type CredentialsAuthorizer,
} from "../http/authorizers.js";
import { findDuplicateKeys } from "../http/duplicate-keys.js";
import type { Authorize } from "../http/handler.js";
import { generateSecret } from "../model/secrets.js";
import { messageOf, StartupError } from "./errors.js";
import type { CliOutput } from "./serve.js";

/** A credentials file larger than this is refused unread (it holds hashes, a few hundred bytes each). */
const MAX_FILE_BYTES = 1024 * 1024;

const hashSchema = z
  .string()
  .regex(/^sha256\$[0-9a-f]{64}$/, "must be sha256$ followed by 64 lowercase hex digits (the value is not shown; make it with `oauth-client-registry hash-secret`)");
const entrySchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  token_hash: hashSchema.optional(),
  email: z.string().optional(),
  key_hash: hashSchema.optional(),
  accounts: z.union([z.literal("*"), z.array(z.string())], { error: 'must be "*" or a list of account ids' }),
  access: z.enum(["read", "read_write"]),
});
const fileSchema = z.strictObject({ credentials: z.array(z.unknown()) });
type FileEntry = z.infer<typeof entrySchema>;

function toCredential(entry: FileEntry): ApiCredential {
  const grant = { ...(entry.name === undefined ? {} : { name: entry.name }), accounts: entry.accounts, access: entry.access };
  if (entry.token_hash !== undefined && entry.email === undefined && entry.key_hash === undefined) return { ...grant, tokenHash: entry.token_hash };
  if (entry.token_hash === undefined && entry.email !== undefined && entry.key_hash !== undefined) return { ...grant, email: entry.email, keyHash: entry.key_hash };
  // Caught by the shape check before this is called.
  throw new Error("unreachable: entry has neither token_hash nor email + key_hash");
}

/** The file's field name for a message of validateCredentials, which speaks of the API's names. */
const fileFieldNames = (message: string) => message.replace(/\btokenHash\b/g, "token_hash").replace(/\bkeyHash\b/g, "key_hash");

/**
 * Reads and checks a credentials file. Every problem is reported at once,
 * each with the file, the entry index (and its name) and what is wrong;
 * hash values never appear in messages.
 *
 * The file is JSON: `{ "credentials": [ entry, … ] }`, each entry
 * `{ "name"?, "token_hash" }` or `{ "name"?, "email", "key_hash" }`, plus
 * `"accounts": "*" | ["<account id>", …]` and `"access": "read" | "read_write"`.
 *
 * @example
 * ```ts
 * const credentials = await loadCredentialsFile("./credentials.json");
 * ```
 */
export async function loadCredentialsFile(file: string): Promise<ApiCredential[]> {
  const fail = (problems: string[]): never => {
    throw new StartupError(`credentials file ${file} is invalid:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  };
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_FILE_BYTES) fail([`larger than ${MAX_FILE_BYTES} bytes`]);
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`cannot read the credentials file ${file}: ${messageOf(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail([`not valid JSON: ${messageOf(error)}`]);
  }
  const duplicates = findDuplicateKeys(text);
  if (duplicates.pointers.length > 0) fail(duplicates.pointers.map((pointer) => `member ${pointer} appears more than once`));

  const list = fileSchema.safeParse(parsed);
  if (!list.success) return fail(['must be an object { "credentials": [ … ] } with nothing else']);
  const entries = list.data.credentials;
  if (entries.length === 0) fail(["lists no credentials"]);
  const label = (index: number) => {
    const name = (entries[index] as { name?: unknown } | null)?.name;
    // JSON-quoted, so a name cannot break a log line.
    return `entry ${index}${typeof name === "string" ? ` (${JSON.stringify(name.slice(0, 200))})` : ""}`;
  };
  // Each entry on its own, so that every problem of every entry is reported in one go.
  const problems: { index: number; message: string }[] = [];
  const usable: { index: number; credential: ApiCredential }[] = [];
  entries.forEach((raw, index) => {
    const shape = entrySchema.safeParse(raw);
    if (!shape.success) {
      for (const issue of shape.error.issues) {
        const message =
          issue.code === "unrecognized_keys"
            ? `unknown member${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k.slice(0, 100))).join(", ")} (known: ${Object.keys(entrySchema.shape).join(", ")})`
            : `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`;
        problems.push({ index, message });
      }
      return;
    }
    const entry = shape.data;
    const token = entry.token_hash !== undefined;
    if (token && (entry.email !== undefined || entry.key_hash !== undefined)) {
      problems.push({ index, message: "has token_hash and email/key_hash; one credential per entry" });
    } else if (!token && (entry.email === undefined || entry.key_hash === undefined)) {
      problems.push({ index, message: 'needs "token_hash", or "email" with "key_hash"' });
    } else {
      usable.push({ index, credential: toCredential(entry) });
    }
  });
  for (const problem of validateCredentials(usable.map((u) => u.credential))) {
    const index = usable[problem.index]!.index;
    // Duplicates name the earlier entry by its index among the usable ones; give the file's index.
    const message = problem.message.replace(/same credential as entry (\d+)/, (_, i: string) => `same credential as entry ${usable[Number(i)]!.index}`);
    problems.push({ index, message: fileFieldNames(message) });
  }
  if (problems.length > 0) {
    fail(problems.sort((a, b) => a.index - b.index).map((p) => `${label(p.index)}: ${p.message}`));
  }
  return usable.map((u) => u.credential);
}

/** The environment's credentials: `OAUTH_REGISTRY_API_TOKEN`, and `OAUTH_REGISTRY_API_KEY` with `OAUTH_REGISTRY_API_EMAIL`, each for every account, read/write. */
function environmentCredentials(env: Readonly<Record<string, string | undefined>>): { credentials: ApiCredential[]; names: string[] } {
  const credentials: ApiCredential[] = [];
  const names: string[] = [];
  for (const name of ["OAUTH_REGISTRY_API_TOKEN", "OAUTH_REGISTRY_API_KEY"] as const) {
    const value = env[name] ?? "";
    if (value.length > MAX_CREDENTIAL_SECRET_LENGTH || /[\s\p{Cc}]/u.test(value)) {
      throw new StartupError(`${name} must be at most ${MAX_CREDENTIAL_SECRET_LENGTH} characters without whitespace or control characters`);
    }
  }
  const token = env.OAUTH_REGISTRY_API_TOKEN ?? "";
  if (token !== "") {
    credentials.push({ name: "OAUTH_REGISTRY_API_TOKEN", tokenHash: hashCredentialSecret(token), accounts: "*", access: "read_write" });
    names.push("OAUTH_REGISTRY_API_TOKEN");
  }
  const key = env.OAUTH_REGISTRY_API_KEY ?? "";
  const email = env.OAUTH_REGISTRY_API_EMAIL ?? "";
  if ((key === "") !== (email === "")) {
    throw new StartupError("OAUTH_REGISTRY_API_KEY and OAUTH_REGISTRY_API_EMAIL must be set together (the SDK's apiKey and apiEmail)");
  }
  if (key !== "") {
    credentials.push({ name: "OAUTH_REGISTRY_API_KEY", email, keyHash: hashCredentialSecret(key), accounts: "*", access: "read_write" });
    names.push("OAUTH_REGISTRY_API_KEY + OAUTH_REGISTRY_API_EMAIL");
  }
  const problems = validateCredentials(credentials);
  if (problems.length > 0) throw new StartupError(`OAUTH_REGISTRY_API_EMAIL: ${problems[0]!.message}`);
  return { credentials, names };
}

/** The identity of a credential, for spotting a file entry that repeats an environment credential. */
const identityOf = (credential: ApiCredential) =>
  credential.tokenHash !== undefined ? `token ${credential.tokenHash}` : `key ${credential.email!.toLowerCase()} ${credential.keyHash!}`;

/** What `serve` authorizes with, and how it reloads the file. */
export interface ServeCredentials {
  authorize: Authorize;
  /** Where the credentials come from, for the start-up line; never a secret. */
  description: string;
  /** Re-reads the credentials file and swaps it in; rejects (keeping the old set) when it is invalid. Null without a file. */
  reload: (() => Promise<number>) | null;
  /**
   * The account ids the credentials in force name (a credential for `"*"`
   * names none), in file order without repeats: the accounts `serve` knows
   * of before any call, e.g. to resume their background work at start.
   */
  accounts(): string[];
}

/** The account ids `credentials` name, first mention first; `"*"` grants name none. */
function namedAccounts(credentials: readonly ApiCredential[]): string[] {
  const named = new Set<string>();
  for (const credential of credentials) if (credential.accounts !== "*") for (const account of credential.accounts) named.add(account);
  return [...named];
}

/**
 * Builds the authorizer of `serve` from the environment and the credentials
 * file. With neither, a token is generated and printed once (`announce`).
 *
 * @example
 * ```ts
 * const credentials = await serveCredentials("./credentials.json", process.env, console.log);
 * ```
 */
export async function serveCredentials(
  file: string | null,
  env: Readonly<Record<string, string | undefined>>,
  announce: (line: string) => void,
): Promise<ServeCredentials> {
  let fromEnv = environmentCredentials(env);
  if (fromEnv.credentials.length === 0 && file === null) {
    const token = generateSecret();
    announce(`API token (generated for this run; set OAUTH_REGISTRY_API_TOKEN to keep one): ${token}`);
    fromEnv = environmentCredentials({ OAUTH_REGISTRY_API_TOKEN: token });
    fromEnv.names[0] = "a generated token";
  }
  const envIdentities = new Map(fromEnv.credentials.map((c) => [identityOf(c), c.name!]));
  const load = async (path: string) => {
    const fromFile = await loadCredentialsFile(path);
    const repeats = fromFile.flatMap((c, index) => {
      const name = envIdentities.get(identityOf(c));
      return name === undefined ? [] : [`  entry ${index}: is the same credential as ${name}; list it in one place`];
    });
    if (repeats.length > 0) throw new StartupError(`credentials file ${path} is invalid:\n${repeats.join("\n")}`);
    return fromFile;
  };
  const initial = file === null ? [] : await load(file);
  const authorizer: CredentialsAuthorizer = createCredentialsAuthorizer([...fromEnv.credentials, ...initial]);
  const sources = [...fromEnv.names, ...(file === null ? [] : [`${initial.length} from ${file}`])];
  let reloading: Promise<unknown> = Promise.resolve();
  let inForce = [...fromEnv.credentials, ...initial];
  return {
    authorize: authorizer.authorize,
    description: sources.join(", "),
    accounts: () => namedAccounts(inForce),
    reload:
      file === null
        ? null
        : () => {
            // One reload at a time, in signal order, so the last file read is the one in force.
            const next = reloading.then(async () => {
              const fromFile = await load(file);
              inForce = [...fromEnv.credentials, ...fromFile];
              authorizer.replace(inForce);
              return fromFile.length;
            });
            reloading = next.catch(() => undefined);
            return next;
          },
  };
}

/** Usage of `hash-secret`. */
export const HASH_SECRET_USAGE = `Usage: oauth-client-registry hash-secret < secret

Reads a token or API key from stdin (one trailing newline is ignored) and
prints the sha256$… hash to put in a --credentials file as "token_hash" or
"key_hash". The secret itself is never printed. Example:

  printf %s "$TOKEN" | oauth-client-registry hash-secret
`;

/** Shortest secret hashed without a warning: a sha256 of fewer random characters could be guessed. */
const SHORT_SECRET = 32;

/**
 * `hash-secret`: stdin → `sha256$…` on stdout. Exit code 2 for arguments or
 * an unusable secret (empty, whitespace inside, too long).
 *
 * @example
 * ```ts
 * const output = { out: console.log, err: console.error };
 * await hashSecretCommand([], async () => "my-token\n", output); // prints sha256$…, resolves with 0
 * ```
 */
export async function hashSecretCommand(args: readonly string[], input: () => Promise<string>, output: CliOutput): Promise<number> {
  if (args.some((a) => a === "-h" || a === "--help")) {
    output.out(HASH_SECRET_USAGE);
    return 0;
  }
  if (args.length > 0) {
    output.err(`error: hash-secret takes no arguments (the secret is read from stdin, so it stays out of the shell history)`);
    output.err(HASH_SECRET_USAGE);
    return 2;
  }
  const secret = (await input()).replace(/\r?\n$/, "");
  if (secret === "" || /[\s\p{Cc}]/u.test(secret) || secret.length > MAX_CREDENTIAL_SECRET_LENGTH) {
    output.err(`error: the secret on stdin must be 1 to ${MAX_CREDENTIAL_SECRET_LENGTH} characters without whitespace or control characters`);
    return 2;
  }
  if (secret.length < SHORT_SECRET) {
    output.err(`warning: a secret shorter than ${SHORT_SECRET} characters can be guessed from its hash; prefer a random one (openssl rand -hex 32)`);
  }
  output.out(hashCredentialSecret(secret));
  return 0;
}

/** Reads stdin to its end, at most a little over the longest secret. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buffer);
    size += buffer.length;
    if (size > MAX_CREDENTIAL_SECRET_LENGTH * 4 + 2) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}
