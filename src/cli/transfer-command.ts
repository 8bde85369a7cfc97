/**
 * The `copy`, `export` and `import` commands: clients moved between a
 * SQLite file, PostgreSQL and MySQL / MariaDB, or through JSON Lines, as
 * they are stored (see transfer.ts). Messages go to stderr, so `export`'s
 * stdout holds nothing but records.
 *
 * Exit codes: 0 done and verified; 1 a store could not be opened, a write
 * failed, or the input had bad lines (then nothing was written); 2 usage;
 * 3 done, but clients that differ in the target were left alone (or the
 * verification found a difference).
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { StoredClient } from "../model/store.js";
import { UsageError } from "./errors.js";
import {
  canonicalJson,
  AccountChecksums,
  inBatches,
  openRecordDatabase,
  parseRecordLines,
  readAll,
  TransferError,
  transferRecords,
  type ConflictPolicy,
  type RecordDatabase,
  type TransferReport,
} from "./transfer.js";

/** Help of the three commands. */
export const TRANSFER_USAGE = `Usage:
  oauth-client-registry copy --from SOURCE --to TARGET [--on-conflict skip|overwrite]
  oauth-client-registry export --from SOURCE > clients.jsonl
  oauth-client-registry import --to TARGET [--on-conflict skip|overwrite] < clients.jsonl

Moves every client of every account as it is stored: ids, secret and rotated-secret
hashes, rotation times and grace ends, versions (so ETags), timestamps, registration
access token hashes, sources, last-use times. No plaintext secret exists to move.

SOURCE and TARGET: a SQLite file, a postgres:// (postgresql://) URL or a mysql://
(mariadb://) URL. Both schemas are created or migrated first, as serve would.

  --on-conflict skip       a client that exists in the target with other content is
                           reported and left alone (default)
  --on-conflict overwrite  it is replaced by the source's record

Running it twice changes nothing. export writes one JSON object per line (keys sorted);
import reads the whole input first: a bad line is reported with its number and nothing
is written. Both ends are verified at the end: a count and a checksum per account.

Exit codes: 0 done and verified; 1 error (nothing written if the input had bad lines);
2 usage; 3 done, but differing clients were left alone or verification found a difference.
`;

/** The lines of stdin, read as they arrive, whatever its size. */
export function stdinLines(): AsyncIterable<string> {
  return createInterface({ input: process.stdin, crlfDelay: Infinity });
}

/** Where the commands write: lines to stderr, and raw text (records) to stdout with backpressure. */
export interface TransferOutput {
  out(line: string): void;
  err(line: string): void;
  /** Writes text to stdout, resolving once it may take more. Default: `out` per line. */
  write?(text: string): Promise<void>;
  /** Progress on a terminal: a line that replaces the previous one. Absent: no progress. */
  progress?(text: string): void;
}

const MAX_REPORTED = 20;

/**
 * Runs `copy`, `export` or `import`; resolves with the exit code.
 *
 * @example
 * ```ts
 * const code = await transferCommand("copy", ["--from", "./old.sqlite", "--to", "postgres://registry@db/registry"],
 *   { out: console.log, err: console.error });
 * ```
 */
export async function transferCommand(
  command: "copy" | "export" | "import",
  args: readonly string[],
  output: TransferOutput,
  input: () => Promise<string> | AsyncIterable<string> = stdinLines,
): Promise<number> {
  if (args.some((a) => a === "-h" || a === "--help")) {
    output.out(TRANSFER_USAGE);
    return 0;
  }
  let options: { from: string | null; to: string | null; onConflict: ConflictPolicy };
  try {
    options = parseTransferArgs(command, args);
  } catch (error) {
    output.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    output.err(TRANSFER_USAGE);
    return 2;
  }
  const opened: RecordDatabase[] = [];
  try {
    if (command === "export") {
      const source = await openRecordDatabase(options.from!, { create: false });
      opened.push(source);
      return await exportRecords(source, output);
    }
    let batches: AsyncIterable<StoredClient[]> | Iterable<StoredClient[]>;
    let total: number;
    let from: string;
    if (command === "import") {
      const source = input();
      const parsed = await parseRecordLines(source instanceof Promise ? await source : source);
      if ("bad" in parsed) {
        for (const { line, problem } of parsed.bad.slice(0, MAX_REPORTED)) output.err(`error: line ${line}: ${problem}`);
        if (parsed.bad.length > MAX_REPORTED) output.err(`error: … and ${parsed.bad.length - MAX_REPORTED} more bad lines`);
        output.err(`error: ${parsed.bad.length} bad line${parsed.bad.length === 1 ? "" : "s"}; nothing was written`);
        return 1;
      }
      batches = inBatches(parsed.records);
      total = parsed.records.length;
      from = "standard input";
    } else {
      const source = await openRecordDatabase(options.from!, { create: false });
      opened.push(source);
      total = await source.count();
      batches = readAll(source);
      from = source.description;
    }
    const target = await openRecordDatabase(options.to!, { create: true });
    opened.push(target);
    if (from === target.description) throw new TransferError("bad_location", "--from and --to name the same store");
    output.err(`${command === "copy" ? "copying" : "importing"} ${total} clients from ${from} to ${target.description}`);
    const report = await transferRecords(batches, target, {
      onConflict: options.onConflict,
      onProgress: output.progress && ((done) => output.progress!(`${done} / ${total} clients`)),
    });
    output.progress?.("");
    return printReport(report, output);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.err(`error: ${message}`);
    return 1;
  } finally {
    for (const database of opened) await database.close().catch(() => undefined);
  }
}

function parseTransferArgs(command: "copy" | "export" | "import", args: readonly string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: { from: { type: "string" }, to: { type: "string" }, "on-conflict": { type: "string" } },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const needsFrom = command !== "import";
  const needsTo = command !== "export";
  if (needsFrom && !values.from) throw new UsageError(`${command} needs --from SOURCE (a SQLite file, postgres:// or mysql:// URL)`);
  if (needsTo && !values.to) throw new UsageError(`${command} needs --to TARGET (a SQLite file, postgres:// or mysql:// URL)`);
  if (!needsFrom && values.from !== undefined) throw new UsageError(`${command} takes no --from: it reads JSON Lines on stdin`);
  if (!needsTo && values.to !== undefined) throw new UsageError(`${command} takes no --to: it writes JSON Lines on stdout`);
  const onConflict = values["on-conflict"] ?? "skip";
  if (onConflict !== "skip" && onConflict !== "overwrite") throw new UsageError(`--on-conflict must be skip or overwrite, got "${onConflict}"`);
  if (!needsTo && values["on-conflict"] !== undefined) throw new UsageError("--on-conflict needs a target: copy or import");
  return { from: values.from ?? null, to: values.to ?? null, onConflict: onConflict as ConflictPolicy };
}

/** Writes every record as one line of canonical JSON, then the counts and checksums (to stderr). */
async function exportRecords(source: RecordDatabase, output: TransferOutput): Promise<number> {
  const total = await source.count();
  const sums = new AccountChecksums();
  let done = 0;
  const write = output.write ?? (async (text: string) => output.out(text.replace(/\n$/, "")));
  for await (const batch of readAll(source)) {
    let text = "";
    for (const record of batch) {
      sums.add(record);
      text += `${canonicalJson(record)}\n`;
    }
    await write(text);
    done += batch.length;
    output.progress?.(`${done} / ${total} clients`);
  }
  output.progress?.("");
  const summaries = sums.summaries();
  for (const [account, { count, checksum }] of summaries) output.err(`account ${JSON.stringify(account)}: ${count} clients, checksum ${checksum}`);
  output.err(`exported ${done} clients of ${summaries.size} accounts from ${source.description}`);
  return 0;
}

/** Prints conflicts, per-account verification and totals; the exit code follows from them. */
function printReport(report: TransferReport, output: TransferOutput): number {
  const left = report.conflicts.filter((c) => !c.overwritten);
  for (const conflict of report.conflicts.slice(0, MAX_REPORTED)) {
    const where = conflict.target_account_id === conflict.account_id ? "" : ` in account ${JSON.stringify(conflict.target_account_id)}`;
    output.err(
      `conflict: client ${JSON.stringify(conflict.client_id)} of account ${JSON.stringify(conflict.account_id)} exists in the target${where} ` +
        `with other content (version ${conflict.target_version}): ${conflict.overwritten ? "overwritten" : "left alone (--on-conflict overwrite replaces it)"}`,
    );
  }
  if (report.conflicts.length > MAX_REPORTED) output.err(`conflict: … and ${report.conflicts.length - MAX_REPORTED} more`);
  for (const [account, { source, target }] of report.accounts) {
    const same = source.count === target.count && source.checksum === target.checksum;
    output.err(
      `account ${JSON.stringify(account)}: source ${source.count} clients, checksum ${source.checksum}; ` +
        `target ${target.count} clients, checksum ${target.checksum}: ${same ? "identical" : "DIFFERENT"}`,
    );
  }
  output.err(
    `${report.read} clients read: ${report.inserted} written, ${report.unchanged} already identical, ` +
      `${report.conflicts.length - left.length} overwritten, ${left.length} left alone; ` +
      `${report.verified ? "verified: every account identical in the target" : "verification found differences"}`,
  );
  return report.verified && left.length === 0 ? 0 : 3;
}

/**
 * The process's stdout and stderr: records written with backpressure (a
 * large export piped into a slow reader is not buffered in memory), and
 * progress on stderr when it is a terminal.
 *
 * @example
 * ```ts
 * process.exitCode = await transferCommand("export", ["--from", "./oauth-clients.sqlite"], terminalTransferOutput());
 * ```
 */
export function terminalTransferOutput(): TransferOutput {
  let lastProgress = 0;
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    write: (text) =>
      new Promise<void>((resolveWrite, rejectWrite) => {
        process.stdout.write(text, (error) => (error ? rejectWrite(error) : resolveWrite()));
      }),
    ...(process.stderr.isTTY && {
      progress: (text: string) => {
        // At most a few updates a second; the empty text clears the line.
        const now = Date.now();
        if (text !== "" && now - lastProgress < 200) return;
        lastProgress = now;
        process.stderr.write(`\r\x1b[2K${text}`);
      },
    }),
  };
}
