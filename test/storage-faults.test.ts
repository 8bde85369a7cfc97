/**
 * A database that is away answers 503 (storage_unavailable) with the retry
 * signals; any other store fault stays a 500 whose details are not exposed.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import {
  createOAuthClientRegistry,
  InternalError,
  isStorageUnavailable,
  StorageUnavailableError,
} from "../src/index.js";
import { createFetchHandler } from "../src/http/index.js";
import type { ClientStore } from "../src/model/store.js";
import { apiRequest, envelopeOf } from "./helpers/http.js";

/** A memory store whose every call fails with `error` while `failing` is set. */
function flakyStore(error: () => unknown) {
  const inner = createMemoryStore();
  const state = { failing: false };
  const store = Object.fromEntries(
    Object.entries(inner).map(([name, method]) => [
      name,
      async (...args: unknown[]) => {
        if (state.failing) throw error();
        return (method as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as ClientStore;
  return { store, state };
}

const outages: [string, () => unknown][] = [
  ["connection refused", () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
  ["admin shutdown (57P01)", () => Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })],
  ["starting up (57P03)", () => Object.assign(new Error("the database system is starting up"), { code: "57P03" })],
  ["connection exception (08006)", () => Object.assign(new Error("connection failure"), { code: "08006" })],
  ["too many connections (53300)", () => Object.assign(new Error("sorry, too many clients already"), { code: "53300" })],
  ["lost connection without a code", () => new Error("Connection terminated unexpectedly")],
  ["pool connect timeout", () => new Error("timeout exceeded when trying to connect")],
  ["SQLite busy", () => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })],
  ["wrapped cause", () => new Error("query failed", { cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }) })],
  ["MySQL connection lost (mysql2)", () => Object.assign(new Error("Connection lost: The server closed the connection."), { code: "PROTOCOL_CONNECTION_LOST", fatal: true })],
  ["MySQL shutting down (1053, 08S01)", () => Object.assign(new Error("Server shutdown in progress"), { code: "ER_SERVER_SHUTDOWN", errno: 1053, sqlState: "08S01" })],
  ["MySQL deadlock (1213, 40001)", () => Object.assign(new Error("Deadlock found when trying to get lock"), { code: "ER_LOCK_DEADLOCK", errno: 1213, sqlState: "40001" })],
  ["MySQL connection error by SQLSTATE only", () => Object.assign(new Error("gone"), { code: "ER_SOMETHING_NEW", sqlState: "08S01" })],
];

describe("storage outages", () => {
  it.each(outages)("%s is StorageUnavailableError in the library and 503 over HTTP", async (_name, make) => {
    expect(isStorageUnavailable(make())).toBe(true);
    const { store, state } = flakyStore(make);
    const registry = createOAuthClientRegistry(store);
    const handler = createFetchHandler(registry, { authorize: () => true, onError: () => {} });
    state.failing = true;
    await expect(registry.get("acct", "0123456789abcdef0123456789abcdef")).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(registry.authenticate("0123456789abcdef0123456789abcdef", "secret")).rejects.toBeInstanceOf(StorageUnavailableError);
    const response = await handler(apiRequest("GET", "/accounts/acct/oauth_clients"));
    expect(response.status).toBe(503);
    expect(response.headers.get("x-should-retry")).toBe("true");
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await envelopeOf(response)).toMatchObject({ success: false, result: null, errors: [{ code: 1501 }] });
    // Back again: the same request succeeds.
    state.failing = false;
    expect((await handler(apiRequest("GET", "/accounts/acct/oauth_clients"))).status).toBe(200);
  });

  it.each([
    ["a syntax error (42601)", () => Object.assign(new Error("syntax error"), { code: "42601" })],
    ["a constraint violation (23505)", () => Object.assign(new Error("duplicate key"), { code: "23505" })],
    ["a MySQL duplicate key (1062, 23000)", () => Object.assign(new Error("Duplicate entry"), { code: "ER_DUP_ENTRY", errno: 1062, sqlState: "23000" })],
    ["a plain bug", () => new TypeError("cannot read properties of undefined")],
  ] as [string, () => unknown][])("%s stays an InternalError, 500 with a generic message", async (_name, make) => {
    expect(isStorageUnavailable(make())).toBe(false);
    const { store, state } = flakyStore(make);
    const registry = createOAuthClientRegistry(store);
    const handler = createFetchHandler(registry, { authorize: () => true, onError: () => {} });
    state.failing = true;
    await expect(registry.list("acct")).rejects.toBeInstanceOf(InternalError);
    const response = await handler(apiRequest("GET", "/accounts/acct/oauth_clients"));
    expect(response.status).toBe(500);
    expect(response.headers.get("x-should-retry")).toBeNull();
    expect((await envelopeOf(response)).errors).toEqual([{ code: 1500, message: "internal server error" }]);
  });
});
