/**
 * Scheduled purge of idle registrations: self-registered clients nobody
 * used for a while are deleted in bounded batches, so that an account open
 * to registration does not keep every client it ever got.
 */
import type { OAuthClientRegistry } from "../registry/api.js";

/** Options of {@link scheduleIdlePurge}. */
export interface IdlePurgeOptions {
  /** The account purged (the registration account). */
  accountId: string;
  /** Delete clients unused (never used: since creation) for longer than this, in milliseconds. */
  idleForMs: number;
  /** Time between two runs, in milliseconds (default one hour; the first run comes one interval after start). */
  intervalMs?: number;
  /** Most clients one run deletes (default 1 000); the rest wait for the next run, so one run stays short. */
  maxPerRun?: number;
  /** Told what each run deleted (not called when it deleted nothing). */
  onPurged?: (deleted: readonly string[]) => void;
  /** Told when a run fails (the database is down…); the next run comes as planned. Default: ignore. */
  onError?: (error: unknown) => void;
}

/** A running schedule; see {@link scheduleIdlePurge}. */
export interface IdlePurgeSchedule {
  /** Runs once now (waiting for a run in progress first); resolves with the number of clients deleted. */
  runNow(): Promise<number>;
  /** Cancels the next run and waits for one in progress. */
  stop(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 3_600_000;
const DEFAULT_MAX_PER_RUN = 1000;
/** `purgeClients` deletes at most this many per call. */
const BATCH = 100;

/**
 * Purges idle clients of `accountId` (sources "dcr" and "cimd", the
 * `purgeClients` default) every `intervalMs`, at most `maxPerRun` per run,
 * in batches of 100. The timer does not keep the process alive, and runs
 * never overlap. Several processes may run it on one store: a client is
 * deleted once (purge deletes at the version it read), and each deletion
 * is one `client.deleted` event.
 *
 * @example
 * ```ts
 * import { scheduleIdlePurge } from "oauth-client-registry/registration";
 *
 * const purge = scheduleIdlePurge(registry, { accountId: "registered", idleForMs: 30 * 86_400_000 });
 * // on shutdown:
 * await purge.stop();
 * ```
 */
export function scheduleIdlePurge(registry: Pick<OAuthClientRegistry, "purgeClients">, options: IdlePurgeOptions): IdlePurgeSchedule {
  const { accountId, idleForMs } = options;
  if (!Number.isFinite(idleForMs) || idleForMs < 0) throw new TypeError("scheduleIdlePurge: idleForMs must be a non-negative number of milliseconds");
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new TypeError("scheduleIdlePurge: intervalMs must be a positive integer");
  const maxPerRun = options.maxPerRun ?? DEFAULT_MAX_PER_RUN;
  if (!Number.isSafeInteger(maxPerRun) || maxPerRun < 1) throw new TypeError("scheduleIdlePurge: maxPerRun must be a positive integer");
  let stopped = false;
  let running: Promise<number> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function purgeOnce(): Promise<number> {
    const deleted: string[] = [];
    let cursor: string | null = null;
    do {
      const batch = await registry.purgeClients(accountId, { idleForMs, limit: Math.min(BATCH, maxPerRun - deleted.length), cursor });
      deleted.push(...batch.deleted);
      cursor = batch.next_cursor;
    } while (cursor !== null && deleted.length < maxPerRun && !stopped);
    if (deleted.length > 0) options.onPurged?.(deleted);
    return deleted.length;
  }

  function run(): Promise<number> {
    running ??= purgeOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  function plan(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      run().then(plan, (error: unknown) => {
        options.onError?.(error);
        plan();
      });
    }, intervalMs);
    // A schedule alone must not keep the process from exiting.
    (timer as { unref?: () => void }).unref?.();
  }
  plan();

  return {
    async runNow() {
      if (running) await running.catch(() => undefined);
      return run();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
