/**
 * Telling a database outage from a bug. A store call that fails because the
 * database is unreachable, restarting, out of connections or locked is worth
 * retrying later (503); anything else is a fault of ours (500).
 */
import { InternalError, OAuthClientError, StorageUnavailableError } from "./errors.js";

/** Network errors a driver surfaces when the server goes away or cannot be reached. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH",
  "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL",
]);

/**
 * mysql2's codes (MySQL, MariaDB) of a connection lost mid-flight or timed
 * out, a server out of connections or shutting down, and a deadlock or lock
 * wait given up: the same cases as the SQLSTATEs below, which mysql2 puts in
 * `sqlState` rather than `code`.
 */
const MYSQL_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST", "PROTOCOL_SEQUENCE_TIMEOUT", "ER_CON_COUNT_ERROR", "ER_TOO_MANY_USER_CONNECTIONS",
  "ER_SERVER_SHUTDOWN", "ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT",
]);

/**
 * SQLSTATE classes of a database that is down or overloaded, not of a bad
 * statement: 08 connection exception, 53 insufficient resources, 57P01–57P03
 * shutdown / crash / cannot connect now, 40001/40P01 serialization / deadlock.
 */
function isTransientSqlState(code: string): boolean {
  return /^08...$/.test(code) || /^53...$/.test(code) || /^57P0[1-3]$/.test(code) || code === "40001" || code === "40P01";
}

/** Driver messages of a connection lost mid-flight (pg, pg-pool), which carry no code. */
const LOST_CONNECTION = /connection terminated|connection ended|timeout exceeded when trying to connect|client has encountered a connection error|not queryable|the database system is (starting up|shutting down|in recovery mode)|Client was closed/i;

/**
 * True when `error` (or an error it wraps) says the database is unavailable
 * rather than that the call was wrong.
 *
 * @example
 * ```ts
 * isStorageUnavailable(Object.assign(new Error("terminating connection"), { code: "57P01" })); // true
 * ```
 */
export function isStorageUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== "object" || error === null) return false;
  if (error instanceof StorageUnavailableError) return true;
  const { code, sqlState, message, cause } = error as { code?: unknown; sqlState?: unknown; message?: unknown; cause?: unknown };
  if (typeof sqlState === "string" && isTransientSqlState(sqlState)) return true;
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || MYSQL_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && isTransientSqlState(code)) return true;
    // Locked past the deadline, disk full, or an I/O error: the file is not usable right now.
    if (/^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(code)) return true;
  }
  if (typeof message === "string" && LOST_CONNECTION.test(message)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => isStorageUnavailable(e, depth + 1))) return true;
  return isStorageUnavailable(cause, depth + 1);
}

/**
 * Runs a store call and types its failure: registry errors pass through, an
 * unavailable database becomes {@link StorageUnavailableError} (503), any
 * other fault {@link InternalError} (500).
 *
 * @example
 * ```ts
 * const found = await storeCall(() => store.get("acct", "0123456789abcdef0123456789abcdef"));
 * ```
 */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OAuthClientError) throw error;
    if (isStorageUnavailable(error)) throw new StorageUnavailableError(undefined, { cause: error });
    throw new InternalError("storage operation failed", { cause: error });
  }
}
