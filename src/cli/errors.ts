/**
 * How the command fails: a usage problem (exit code 2, printed with the
 * usage) or a startup problem (exit code 1), and the one-line message of
 * any error for the terminal.
 */

/** A problem with the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** A problem starting up (database, file, port): printed, exit code 1. */
export class StartupError extends Error {}

/**
 * The message of an error for a one-line report: the first error of an
 * `AggregateError` (what `net` throws for a refused connection), else the
 * message, the system error code or the name, whichever exists first.
 *
 * @example
 * ```ts
 * messageOf(Object.assign(new Error(""), { code: "ECONNREFUSED" })); // "ECONNREFUSED"
 * ```
 */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
