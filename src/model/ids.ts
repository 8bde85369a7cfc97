/**
 * Identifiers and list cursors as callers send them. They reach every store
 * as query parameters, so anything no client could have is answered here,
 * identically for every adapter: PostgreSQL refuses NUL in text, SQLite
 * stores it, and a lone surrogate is stored altered by both.
 */
import type { ValidationIssue } from "./errors.js";
import { CONTROL_CHARACTER } from "../rules/text.js";
import type { ListPosition, StoredClient } from "./store.js";

/**
 * Longest client id any client can have: a Client ID Metadata Document's
 * URL is its id; the SQL adapters' key column is varchar(255).
 */
export const MAX_CLIENT_ID_LENGTH = 255;
/** Longest account id accepted. */
export const MAX_ACCOUNT_ID_LENGTH = 255;


/** A non-empty, well-formed string of at most `max` UTF-16 units with no control character. */
function isCleanString(value: unknown, max: number): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= max &&
    !CONTROL_CHARACTER.test(value) &&
    value.isWellFormed()
  );
}

/**
 * Whether `clientId` could name a client at all; ids that cannot are
 * answered (NotFound, null) without a store lookup.
 *
 * @example
 * ```ts
 * isPlausibleClientId("a\u0000b"); // false
 * ```
 */
export function isPlausibleClientId(clientId: unknown): clientId is string {
  return isCleanString(clientId, MAX_CLIENT_ID_LENGTH);
}

/**
 * The problem with an account id, or null when it is acceptable: 1 to 255
 * characters, well-formed Unicode, no control characters.
 *
 * @example
 * ```ts
 * accountIdIssue("acct\u0000"); // { path: "/account_id", message: "…control characters…" }
 * ```
 */
export function accountIdIssue(accountId: unknown): ValidationIssue | null {
  if (typeof accountId !== "string" || accountId.length === 0 || accountId.length > MAX_ACCOUNT_ID_LENGTH) {
    return { path: "/account_id", message: `account id must be a string of 1 to ${MAX_ACCOUNT_ID_LENGTH} characters` };
  }
  if (CONTROL_CHARACTER.test(accountId)) {
    return { path: "/account_id", message: "account id must not contain control characters (NUL included)" };
  }
  if (!accountId.isWellFormed()) {
    return { path: "/account_id", message: "account id must be well-formed Unicode (no lone surrogates)" };
  }
  return null;
}

/**
 * Why a page size is unacceptable (worded to follow the parameter's name),
 * or null: an integer from 1 to `maxPageSize`.
 *
 * @example
 * ```ts
 * `per_page ${pageSizeProblem(0, 100)}`; // "per_page must be an integer from 1 to 100"
 * ```
 */
export function pageSizeProblem(size: unknown, maxPageSize: number): string | null {
  return Number.isInteger(size) && (size as number) >= 1 && (size as number) <= maxPageSize
    ? null
    : `must be an integer from 1 to ${maxPageSize}`;
}

/** `Date.prototype.toISOString()` output: the only timestamps stores hold. */
const STORED_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The opaque `next_cursor` of a list page: the position of its last client.
 * It is not signed — a caller can only move within the account it is
 * already allowed to list.
 *
 * @example
 * ```ts
 * const cursor = encodeCursor(record); // the last record of a page
 * ```
 */
export function encodeCursor(record: Pick<StoredClient, "created_at" | "client_id">): string {
  const bytes = new TextEncoder().encode(JSON.stringify([record.created_at, record.client_id]));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The position a cursor names, or null when it is not one {@link encodeCursor}
 * could have produced (wrong shape, a timestamp not in stored form, an id no
 * client can have).
 *
 * @example
 * ```ts
 * decodeCursor(encodeCursor(record)); // { created_at, client_id }
 * ```
 */
export function decodeCursor(cursor: unknown): ListPosition | null {
  if (typeof cursor !== "string" || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const bytes = Uint8Array.from(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [createdAt, clientId] = value as unknown[];
    if (typeof createdAt !== "string" || !STORED_TIMESTAMP.test(createdAt) || !isPlausibleClientId(clientId)) return null;
    return { created_at: createdAt, client_id: clientId };
  } catch {
    return null;
  }
}
