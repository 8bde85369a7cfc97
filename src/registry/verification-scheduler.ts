/**
 * client_uri verification in the background, for long-running servers
 * (`serve`, a Node, Bun or Deno service): a pending verification is checked
 * soon after client_uri is set, then at growing intervals until a bounded
 * window ends, when a last miss marks it `failed`. Nothing here runs on a
 * request's path: checks start from timers, at most `concurrency` at once,
 * and a slow DNS server only delays the checks themselves.
 *
 * The window is counted from the client's `updated_at`, which is stored: a
 * restarted process resumes each check where its schedule stands, with no
 * state of its own to keep. A check that does not find the record writes
 * nothing, so it neither moves that anchor nor changes the client's version.
 *
 * Which accounts a sweep reads: the ones named (`accounts`, `watchAccount`),
 * and, when the registry's store is given and offers `listAccounts`, every
 * account holding a client, listed from the store a page at a time; so a
 * restarted process resumes every pending check without being told where
 * they are.
 */
import { NotFoundError, ValidationError } from "../model/errors.js";
import type { RegistryEvent } from "../model/events.js";
import type { OAuthClient } from "../fields.js";
import type { ClientStore } from "../model/store.js";
import type { OAuthClientRegistry } from "./api.js";
import type { ResolveTxt } from "./verification.js";

/** The timer functions the scheduler uses; the platform's by default, injectable for tests. */
export interface SchedulerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link createVerificationScheduler}; every one has a default. */
export interface VerificationSchedulerOptions {
  /** Delay of the first check after client_uri is set. Default 30 000 (30 s). */
  firstCheckDelayMs?: number;
  /** Longest interval between two checks; the interval doubles from the first delay up to it. Default 21 600 000 (6 h). */
  maxIntervalMs?: number;
  /** How long after the client's last update checks go on; the last one, at the end, marks a miss `failed`. Default 172 800 000 (48 h). */
  windowMs?: number;
  /** Checks running at once. Default 4. */
  concurrency?: number;
  /** Most clients scheduled at once; past it a client waits for a later sweep of its account. Default 10 000. */
  maxScheduled?: number;
  /** Accounts to sweep for pending verifications at start and at every sweep. More can be added with `watchAccount`. */
  accounts?: Iterable<string>;
  /**
   * The registry's store. When it offers `listAccounts`, the sweep at start
   * and every periodic sweep also read every account the store lists (at
   * most `maxAccounts` per sweep; the next sweep goes on after the last one
   * read, from the first again once the list is done), so no account needs
   * naming. Without it, or without that capability, only the named accounts
   * are swept.
   */
  store?: ClientStore;
  /** Most accounts watched (past it `watchAccount` ignores new ones), and most accounts one sweep lists from `store`. Default 10 000. */
  maxAccounts?: number;
  /** Period of the sweep of every watched account (finds checks another process left). Default 3 600 000 (1 h); `Infinity`: sweep each account once. */
  sweepIntervalMs?: number;
  /** Most clients of one account read by one sweep. Default 10 000. */
  maxClientsPerSweep?: number;
  /** Clock. Default `() => new Date()`. */
  now?: () => Date;
  /** Timers. Default the platform's `setTimeout` / `clearTimeout` (unref'd where the platform can, so they never keep a process alive). */
  timers?: SchedulerTimers;
  /** Called with what a check or sweep could not do (storage down, …); the check is tried again later. Default: ignored. */
  onError?: (error: unknown) => void;
}

/** A running scheduler: feed it the registry's events, and close it on shutdown. */
export interface VerificationScheduler {
  /**
   * The registry's event listener: schedules a check when a verification
   * starts (created, imported, client_uri changed), drops it when the client
   * is deleted or verification ends.
   */
  onEvent(event: RegistryEvent): void;
  /** Sweeps this account for pending verifications now (once) and at every later sweep. */
  watchAccount(accountId: string): void;
  /** Checks one client soon (then on its schedule), e.g. a client this process learned of another way. */
  schedule(accountId: string, clientId: string): void;
  /** How many clients are scheduled (running checks included). */
  readonly size: number;
  /** Resolves once no check or sweep is running (checks not yet due are not waited for). */
  settled(): Promise<void>;
  /** Stops every timer and schedules nothing more; resolves once running checks have finished. */
  close(): Promise<void>;
}

interface Entry {
  accountId: string;
  clientId: string;
  /** When the next check is due (ms since the epoch). */
  due: number;
  running: boolean;
  /** Checks in a row that could not run (storage down): the retry delay doubles with each. */
  failures: number;
}

const DEFAULTS = {
  firstCheckDelayMs: 30_000,
  maxIntervalMs: 6 * 3_600_000,
  windowMs: 48 * 3_600_000,
  concurrency: 4,
  maxScheduled: 10_000,
  maxAccounts: 10_000,
  sweepIntervalMs: 3_600_000,
  maxClientsPerSweep: 10_000,
};

const SWEEP_PAGE = 100;
/** Account ids asked of the store at once by a sweep over `listAccounts`. */
const ACCOUNT_PAGE = 100;

/** The platform's timers, unref'd on Node, Bun and Deno so that a pending check never holds a process open. */
const platformTimers: SchedulerTimers = {
  setTimeout(callback, ms) {
    const handle = globalThis.setTimeout(callback, ms) as unknown;
    (handle as { unref?: () => void } | null)?.unref?.();
    if (typeof handle === "number" && typeof (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer === "function") {
      (globalThis as unknown as { Deno: { unrefTimer(id: number): void } }).Deno.unrefTimer(handle);
    }
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
};

/**
 * When the check after `nowMs` is due for a verification whose window
 * started at `anchorMs`: `anchor + first`, then doubling intervals capped at
 * `maxInterval`, the last one exactly at `anchor + window`; `nowMs` itself
 * when the window has passed (one last, final, check).
 *
 * @example
 * ```ts
 * nextCheckAt(0, 0, { firstCheckDelayMs: 30_000, maxIntervalMs: 21_600_000, windowMs: 172_800_000 }); // 30000
 * ```
 */
export function nextCheckAt(
  anchorMs: number,
  nowMs: number,
  schedule: Pick<Required<VerificationSchedulerOptions>, "firstCheckDelayMs" | "maxIntervalMs" | "windowMs">,
): number {
  const { firstCheckDelayMs: first, maxIntervalMs: maxInterval, windowMs: window } = schedule;
  if (!Number.isFinite(anchorMs) || nowMs >= anchorMs + window) return nowMs;
  let offset = Math.min(first, window);
  let interval = first;
  while (anchorMs + offset <= nowMs) {
    interval = Math.min(interval * 2, maxInterval);
    offset = Math.min(offset + interval, window);
  }
  return anchorMs + offset;
}

function positive(where: string, name: string, value: number | undefined, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new TypeError(`${where}: ${name} must be a positive ${allowInfinity ? "number (or Infinity)" : "finite number"}`);
  }
  return value;
}

/**
 * Runs client_uri verification in the background over a registry. Pass its
 * `onEvent` to the registry (directly or from your own listener), and
 * `watchAccount` the accounts whose pending checks a restarted process
 * should resume (the store lists clients per account), or pass the store:
 * one that offers `listAccounts` lets every sweep find every account.
 *
 * Wrap the registry's `resolveTxt` with {@link resolveTxtWithTimeout} so
 * that a DNS server that never answers cannot hold a check slot.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry, createVerificationScheduler, resolveTxtWithTimeout, type VerificationScheduler } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 * import { resolveTxt } from "node:dns/promises";
 *
 * let scheduler: VerificationScheduler | undefined;
 * const store = createMemoryStore();
 * const registry = createOAuthClientRegistry(store, {
 *   resolveTxt: resolveTxtWithTimeout(resolveTxt, 5_000),
 *   onEvent: (event) => scheduler?.onEvent(event),
 * });
 * scheduler = createVerificationScheduler(registry, { store, accounts: ["acct_1"] });
 * // … on shutdown:
 * await scheduler.close();
 * ```
 */
export function createVerificationScheduler(
  registry: OAuthClientRegistry,
  options: VerificationSchedulerOptions = {},
): VerificationScheduler {
  const where = "createVerificationScheduler";
  const schedule = {
    firstCheckDelayMs: positive(where, "firstCheckDelayMs", options.firstCheckDelayMs, DEFAULTS.firstCheckDelayMs),
    maxIntervalMs: positive(where, "maxIntervalMs", options.maxIntervalMs, DEFAULTS.maxIntervalMs),
    windowMs: positive(where, "windowMs", options.windowMs, DEFAULTS.windowMs),
  };
  const concurrency = Math.max(1, Math.floor(positive(where, "concurrency", options.concurrency, DEFAULTS.concurrency)));
  const maxScheduled = positive(where, "maxScheduled", options.maxScheduled, DEFAULTS.maxScheduled, true);
  const maxAccounts = positive(where, "maxAccounts", options.maxAccounts, DEFAULTS.maxAccounts, true);
  const sweepIntervalMs = positive(where, "sweepIntervalMs", options.sweepIntervalMs, DEFAULTS.sweepIntervalMs, true);
  const maxClientsPerSweep = positive(where, "maxClientsPerSweep", options.maxClientsPerSweep, DEFAULTS.maxClientsPerSweep, true);
  const now = options.now ? () => options.now!().getTime() : () => Date.now();
  const timers = options.timers ?? platformTimers;
  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // A failing logger must not stop the scheduler.
    }
  };

  const entries = new Map<string, Entry>();
  const watched = new Set<string>();
  // Insertion-ordered: sweeps run first come, first served, and an account already waiting is not queued twice.
  const sweepQueue = new Set<string>();
  const listAccounts = options.store?.listAccounts?.bind(options.store);
  /** The last account the previous listing read, when it stopped at `maxAccounts` before the list's end. */
  let listedUpTo: string | undefined;
  let listing = false;
  let running = 0;
  let sweeping = false;
  let closed = false;
  let checkTimer: { handle: unknown; at: number } | null = null;
  let sweepTimer: unknown = null;
  let waiters: (() => void)[] = [];

  // Account ids never contain control characters; the NUL keeps keys unambiguous.
  const keyOf = (accountId: string, clientId: string) => `${accountId}\u0000${clientId}`;

  function wakeWaiters() {
    if (running > 0 || sweeping || listing) return;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  }

  /** Adds or brings forward a client's check; the earlier due time wins. */
  function enqueue(accountId: string, clientId: string, due: number) {
    if (closed) return;
    const key = keyOf(accountId, clientId);
    const entry = entries.get(key);
    if (entry) {
      entry.due = Math.min(entry.due, due);
    } else {
      // Bounded: a client past the cap waits for a later sweep of its account.
      if (entries.size >= maxScheduled) return;
      entries.set(key, { accountId, clientId, due, running: false, failures: 0 });
    }
    armFor(due);
  }

  /** Makes sure a timer fires by `due` (one timer serves every entry). */
  function armFor(due: number) {
    if (closed || (checkTimer !== null && checkTimer.at <= due)) return;
    if (checkTimer) timers.clearTimeout(checkTimer.handle);
    checkTimer = {
      at: due,
      handle: timers.setTimeout(() => {
        checkTimer = null;
        pump();
      }, Math.max(0, due - now())),
    };
  }

  function forget(accountId: string, clientId: string) {
    entries.delete(keyOf(accountId, clientId));
  }

  /** Starts due checks up to the concurrency limit, then sets one timer for the next due one. */
  function pump() {
    if (closed) return;
    const nowMs = now();
    let next: Entry | null = null;
    for (const entry of entries.values()) {
      if (entry.running) continue;
      if (entry.due <= nowMs && running < concurrency) {
        start(entry);
      } else if (next === null || entry.due < next.due) {
        next = entry;
      }
    }
    // At the limit, a finishing check calls pump again; an idle scheduler keeps no timer.
    if (checkTimer) timers.clearTimeout(checkTimer.handle);
    checkTimer = null;
    if (running < concurrency && next !== null) armFor(next.due);
  }

  function start(entry: Entry) {
    entry.running = true;
    running++;
    check(entry)
      .catch((error: unknown) => {
        // Gone, or client_uri cleared between the read and the check: nothing left to verify.
        if (error instanceof NotFoundError || error instanceof ValidationError) return forget(entry.accountId, entry.clientId);
        report(error);
        // Storage down, say: try again later, less often the longer it lasts.
        if (entries.get(keyOf(entry.accountId, entry.clientId)) === entry) {
          entry.failures++;
          entry.due = now() + Math.min(schedule.firstCheckDelayMs * 2 ** entry.failures, schedule.maxIntervalMs);
        }
      })
      .finally(() => {
        entry.running = false;
        running--;
        pump();
        wakeWaiters();
      });
  }

  /** One attempt: re-read the client, look the record up, and reschedule or forget it by the outcome. */
  async function check(entry: Entry): Promise<void> {
    const { accountId, clientId } = entry;
    const client = await registry.get(accountId, clientId);
    if (!stillChecking(client)) return forget(accountId, clientId);
    const nowMs = now();
    const final = nowMs >= Date.parse(client.updated_at) + schedule.windowMs;
    const after = await registry.verifyClientUri(accountId, clientId, { final });
    // The client may have been deleted or its check decided meanwhile (events remove the entry).
    if (entries.get(keyOf(accountId, clientId)) !== entry) return;
    if (!stillChecking(after)) return forget(accountId, clientId);
    entry.failures = 0;
    // updated_at of the client as it is now: a client_uri changed during the lookup restarts the schedule.
    entry.due = nextCheckAt(Date.parse(after.updated_at), now(), schedule);
  }

  function stillChecking(client: OAuthClient): boolean {
    const status = client.client_uri_verification?.status;
    return status === "pending" || status === "in_progress";
  }

  /** Reads the account's clients a page at a time and schedules each pending verification on its schedule. */
  async function sweep(accountId: string) {
    let cursor: string | null = null;
    let read = 0;
    do {
      const page = await registry.list(accountId, { limit: SWEEP_PAGE, cursor });
      for (const client of page.clients) {
        if (stillChecking(client)) enqueue(accountId, client.client_id, nextCheckAt(Date.parse(client.updated_at), now(), schedule));
      }
      read += page.clients.length;
      cursor = page.next_cursor;
    } while (cursor !== null && read < maxClientsPerSweep && !closed);
  }

  /** Sweeps run one at a time, in the order they were asked for. */
  function drainSweeps() {
    if (sweeping || closed) return;
    const accountId = sweepQueue.values().next().value;
    if (accountId === undefined) return wakeWaiters();
    sweepQueue.delete(accountId);
    sweeping = true;
    sweep(accountId)
      .catch(report)
      .finally(() => {
        sweeping = false;
        drainSweeps();
        wakeWaiters();
      });
  }

  function requestSweep(accountId: string) {
    if (closed) return;
    sweepQueue.add(accountId);
    drainSweeps();
  }

  /**
   * Queues a sweep of each account the store lists, a page at a time, at
   * most `maxAccounts` of them: the queue stays bounded, and a store with
   * more accounts is covered over several sweeps.
   */
  async function listAndSweep(list: NonNullable<typeof listAccounts>) {
    let listed = 0;
    while (listed < maxAccounts && !closed) {
      const limit = Math.max(1, Math.min(ACCOUNT_PAGE, Math.floor(maxAccounts - listed)));
      const page = await list(listedUpTo === undefined ? { limit } : { after: listedUpTo, limit });
      for (const accountId of page) requestSweep(accountId);
      listed += page.length;
      listedUpTo = page.length < limit ? undefined : page[page.length - 1];
      if (listedUpTo === undefined) return;
    }
  }

  /** Sweeps every account the store lists, when it can list them (one listing at a time). */
  function sweepListed() {
    if (listAccounts === undefined || listing || closed) return;
    listing = true;
    listAndSweep(listAccounts)
      .catch(report)
      .finally(() => {
        listing = false;
        wakeWaiters();
      });
  }

  function armSweepTimer() {
    if (closed || !Number.isFinite(sweepIntervalMs)) return;
    sweepTimer = timers.setTimeout(() => {
      for (const accountId of watched) requestSweep(accountId);
      sweepListed();
      armSweepTimer();
    }, sweepIntervalMs);
  }

  const scheduler: VerificationScheduler = {
    onEvent(event) {
      if (closed) return;
      switch (event.type) {
        case "client.created":
        case "client.imported":
          enqueue(event.account_id, event.client_id, nextCheckAt(Date.parse(event.at), now(), schedule));
          break;
        case "client.updated":
          if (event.changed_fields.includes("client_uri_verification")) {
            enqueue(event.account_id, event.client_id, nextCheckAt(Date.parse(event.at), now(), schedule));
          }
          break;
        case "client.deleted":
          forget(event.account_id, event.client_id);
          break;
        case "client.uri_verification_changed":
          // Decided, by this scheduler or by an explicit check: nothing left to do.
          forget(event.account_id, event.client_id);
          break;
        default:
          break;
      }
    },
    watchAccount(accountId) {
      if (closed || typeof accountId !== "string" || watched.has(accountId) || watched.size >= maxAccounts) return;
      watched.add(accountId);
      requestSweep(accountId);
    },
    schedule(accountId, clientId) {
      enqueue(accountId, clientId, now() + schedule.firstCheckDelayMs);
    },
    get size() {
      return entries.size;
    },
    settled() {
      if (running === 0 && !sweeping && !listing) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    close() {
      closed = true;
      if (checkTimer) timers.clearTimeout(checkTimer.handle);
      checkTimer = null;
      if (sweepTimer !== null) timers.clearTimeout(sweepTimer);
      sweepTimer = null;
      sweepQueue.clear();
      entries.clear();
      return scheduler.settled();
    },
  };

  for (const accountId of options.accounts ?? []) scheduler.watchAccount(accountId);
  sweepListed();
  armSweepTimer();
  return scheduler;
}

/** The error a time-limited lookup rejects with; a verification counts it as "record not found". */
export class TxtLookupTimeoutError extends Error {
  readonly code = "txt_lookup_timeout";
  constructor(hostname: string, timeoutMs: number) {
    super(`DNS TXT lookup of ${hostname} took longer than ${timeoutMs} ms`);
    this.name = "TxtLookupTimeoutError";
  }
}

/**
 * A resolver that gives up after `timeoutMs`: the lookup rejects with
 * {@link TxtLookupTimeoutError} (so the check counts as not found) and the
 * caller is free at once, whatever the DNS server does.
 *
 * @example
 * ```ts
 * import { resolveTxt } from "node:dns/promises";
 *
 * const bounded = resolveTxtWithTimeout(resolveTxt, 5_000);
 * ```
 */
export function resolveTxtWithTimeout(resolve: ResolveTxt, timeoutMs: number, timers: SchedulerTimers = platformTimers): ResolveTxt {
  positive("resolveTxtWithTimeout", "timeoutMs", timeoutMs, timeoutMs);
  return (hostname) =>
    new Promise<string[][]>((fulfil, reject) => {
      const timer = timers.setTimeout(() => reject(new TxtLookupTimeoutError(hostname, timeoutMs)), timeoutMs);
      let lookup: Promise<string[][]>;
      try {
        lookup = Promise.resolve(resolve(hostname));
      } catch (error) {
        lookup = Promise.reject(error as Error);
      }
      lookup.then(
        (records) => {
          timers.clearTimeout(timer);
          fulfil(records);
        },
        (error: unknown) => {
          timers.clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
}
