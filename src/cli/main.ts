#!/usr/bin/env node
/**
 * The `oauth-client-registry` command (the package's bin). `serve` runs the
 * HTTP API on a local port over embedded SQLite (no set-up), or over
 * PostgreSQL when a database URL is given, guarded by a bearer token, an
 * API key + email, or a credentials file. `hash-secret` turns a token or key
 * read from stdin into the hash a credentials file holds.
 */
import cluster from "node:cluster";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseServeArgs, USAGE, type ServeOptions } from "./args.js";
import { serveWithWorkers } from "./cluster.js";
import { hashSecretCommand, readStdin } from "./credentials.js";
import { messageOf, StartupError } from "./errors.js";
import { closeOnSignal, consoleOutput, serve, type CliOutput, type RunningServer } from "./serve.js";
import { stdinLines, terminalTransferOutput, transferCommand } from "./transfer-command.js";

/**
 * Entry point of the bin. Resolves with the process exit code for usage and
 * startup errors; while serving it only returns on a signal.
 *
 * @example
 * ```ts
 * process.exit(await main(["serve", "--port", "9000"]));
 * ```
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  output: CliOutput = consoleOutput,
  input: () => Promise<string> = readStdin,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "hash-secret") return hashSecretCommand(rest, input, output);
  if (command === "copy" || command === "export" || command === "import") {
    // readStdin stops after a few KiB (it reads one secret); import reads its lines without a bound.
    return transferCommand(command, rest, output === consoleOutput ? terminalTransferOutput() : output, input === readStdin ? stdinLines : input);
  }
  if (command === "-h" || command === "--help" || command === "help" || (command === "serve" && rest.some((a) => a === "-h" || a === "--help"))) {
    output.out(USAGE);
    return 0;
  }
  if (command !== "serve") {
    output.err(command === undefined ? "error: missing command" : `error: unknown command "${command}"`);
    output.err(USAGE);
    return 2;
  }
  let options: ServeOptions;
  try {
    options = parseServeArgs(rest, env);
  } catch (error) {
    output.err(`error: ${messageOf(error)}`);
    output.err(USAGE);
    return 2;
  }
  if ((options.workers ?? 1) > 1 || cluster.isWorker) return serveWithWorkers(argv, options, env, output);
  let running: RunningServer;
  try {
    running = await serve(options, env, output);
  } catch (error) {
    output.err(`error: ${error instanceof StartupError ? error.message : messageOf(error)}`);
    return 1;
  }
  return closeOnSignal(running, output);
}

/** True when this file is the process's script (the bin, possibly through a symlink), not an import. */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${messageOf(error)}\n`);
      process.exit(1);
    },
  );
}
