/**
 * Background client_uri verification: when checks run (soon, then backing
 * off over a bounded window), what each leaves stored, how a restarted
 * process resumes them from the store, and that a DNS server that never
 * answers holds no more than the concurrency limit and blocks no request.
 * Time is a fake clock with fake timers: no test waits for real time.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import {
  createOAuthClientRegistry,
  createVerificationScheduler,
  resolveTxtWithTimeout,
  TxtLookupTimeoutError,
  type ClientStore,
  type ResolveTxt,
  type SchedulerTimers,
  type VerificationScheduler,
  type VerificationSchedulerOptions,
} from "../src/index.js";
import { nextCheckAt } from "../src/registry/verification-scheduler.js";
import { fakeTimers } from "./helpers/fake-timers.js";
import { createBody, registryFixture, type FakeClock } from "./helpers/registry.js";

const ACCOUNT = "acct_verify";
const HOST = "app.example.com";
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DEFAULT_SCHEDULE = { firstCheckDelayMs: 30 * SECOND, maxIntervalMs: 6 * HOUR, windowMs: 48 * HOUR };

interface Setup {
  registry: ReturnType<typeof registryFixture>["registry"];
  store: ClientStore;
  clock: FakeClock;
  txt: Map<string, string[][]>;
  /** Each lookup: its host and when it ran, in ms after the start. */
  lookups: { host: string; at: number }[];
  scheduler: VerificationScheduler;
  /** Moves time on, waiting after each timer for the checks it started. */
  advance(ms: number): Promise<void>;
  /** Moves time on without waiting for running checks (for lookups that never end). */
  advanceOnly(ms: number): Promise<void>;
  pendingTimers(): number;
  createClient(clientUri?: string): Promise<{ client_id: string; text: string }>;
  status(clientId: string): Promise<string | undefined>;
}

/**
 * A registry over `store` (a fresh memory store by default) wired to a
 * scheduler, a fake clock with fake timers, and TXT records from `txt`.
 * `resolve` replaces the lookup (for a DNS server that hangs).
 */
function setup(
  options: VerificationSchedulerOptions = {},
  more: { store?: ClientStore; start?: string; resolve?: (timers: SchedulerTimers) => ResolveTxt } = {},
): Setup {
  const txt = new Map<string, string[][]>();
  const lookups: { host: string; at: number }[] = [];
  // Set once the registry exists; the registry's callbacks run only after that.
  const late: { scheduler?: VerificationScheduler; resolve?: ResolveTxt } = {};
  const fixture = registryFixture({
    ...(more.store ? { store: more.store } : {}),
    ...(more.start ? { start: more.start } : {}),
    resolveTxt: async (host) => {
      lookups.push({ host, at: fixture.clock.now().getTime() - started });
      if (late.resolve) return late.resolve(host);
      const records = txt.get(host);
      if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return records;
    },
    onEvent: (event) => late.scheduler?.onEvent(event),
  });
  const started = fixture.clock.now().getTime();
  const fake = fakeTimers(fixture.clock);
  late.resolve = more.resolve?.(fake.timers);
  const s = createVerificationScheduler(fixture.registry, { now: fixture.clock.now, timers: fake.timers, ...options });
  late.scheduler = s;
  return {
    registry: fixture.registry,
    store: fixture.store,
    clock: fixture.clock,
    txt,
    lookups,
    scheduler: s,
    advance: (ms) => fake.advance(ms, () => s.settled()),
    advanceOnly: (ms) => fake.advance(ms),
    pendingTimers: fake.pending,
    async createClient(clientUri = `https://${HOST}/home`) {
      const created = await fixture.registry.create(ACCOUNT, createBody({ client_uri: clientUri }));
      return { client_id: created.client_id, text: created.client_uri_verification!.text };
    },
    async status(clientId) {
      return (await fixture.registry.get(ACCOUNT, clientId)).client_uri_verification?.status;
    },
  };
}

describe("nextCheckAt: the schedule", () => {
  it("starts after the first delay, doubles the interval up to the cap, and ends exactly at the window", () => {
    const points: number[] = [];
    for (let at = nextCheckAt(0, 0, DEFAULT_SCHEDULE); at < 48 * HOUR; at = nextCheckAt(0, at, DEFAULT_SCHEDULE)) points.push(at);
    points.push(nextCheckAt(0, points.at(-1)!, DEFAULT_SCHEDULE));
    expect(points.slice(0, 4)).toEqual([30 * SECOND, 90 * SECOND, 210 * SECOND, 450 * SECOND]);
    expect(points.at(-1)).toBe(48 * HOUR);
    const gaps = points.slice(1).map((at, i) => at - points[i]!);
    for (let i = 1; i < gaps.length - 1; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(Math.max(...gaps)).toBe(6 * HOUR);
    expect(points.length).toBeLessThan(20);
  });

  it("after the window, the next check is now (one last check)", () => {
    expect(nextCheckAt(0, 50 * HOUR, DEFAULT_SCHEDULE)).toBe(50 * HOUR);
  });
});

describe("background client_uri verification", () => {
  it("checks a new client_uri soon after it is set and stores verified when the record is there", async () => {
    const t = setup();
    const { client_id, text } = await t.createClient();
    t.txt.set(HOST, [[text]]);
    expect(await t.status(client_id)).toBe("pending");
    await t.advance(29 * SECOND);
    expect(t.lookups).toEqual([]);
    await t.advance(1 * SECOND);
    expect(t.lookups).toEqual([{ host: HOST, at: 30 * SECOND }]);
    expect(await t.status(client_id)).toBe("verified");
    expect(t.scheduler.size).toBe(0);
    expect(t.pendingTimers()).toBe(1); // the periodic sweep only
  });

  it("a miss stays in_progress with no write; checks back off; a miss at the window's end stores failed", async () => {
    const t = setup();
    const { client_id, text } = await t.createClient();
    const before = await t.registry.get(ACCOUNT, client_id);
    await t.advance(30 * SECOND);
    const afterFirst = await t.registry.get(ACCOUNT, client_id);
    expect(afterFirst.client_uri_verification).toEqual({ status: "in_progress", text });
    await t.advance(10 * HOUR);
    const later = await t.registry.get(ACCOUNT, client_id);
    // Misses write nothing: the version moved once (pending → in_progress) and updated_at, which anchors the window, not at all.
    expect(later).toEqual(afterFirst);
    expect(later.updated_at).toBe(before.updated_at);
    await t.advance(38 * HOUR);
    expect(await t.status(client_id)).toBe("failed");
    const times = t.lookups.map((l) => l.at);
    expect(times.at(-1)).toBe(48 * HOUR);
    expect(times.slice(0, 3)).toEqual([30 * SECOND, 90 * SECOND, 210 * SECOND]);
    expect(times.length).toBeLessThan(20);
    expect(t.scheduler.size).toBe(0);
    await t.advance(100 * HOUR);
    expect(t.lookups.length).toBe(times.length); // nothing after failed
  });

  it("a record published hours later is found by a later check", async () => {
    const t = setup();
    const { client_id, text } = await t.createClient();
    await t.advance(3 * HOUR);
    expect(await t.status(client_id)).toBe("in_progress");
    t.txt.set(HOST, [[text]]);
    await t.advance(6 * HOUR);
    expect(await t.status(client_id)).toBe("verified");
  });

  it("an explicit check decides: a miss is failed and background checking stops; sending client_uri again restarts it", async () => {
    const t = setup();
    const { client_id, text } = await t.createClient();
    expect((await t.registry.verifyClientUri(ACCOUNT, client_id)).client_uri_verification?.status).toBe("failed");
    expect(t.scheduler.size).toBe(0);
    await t.advance(HOUR);
    expect(t.lookups).toHaveLength(1);
    const restarted = await t.registry.update(ACCOUNT, client_id, { client_uri: `https://${HOST}/home` });
    expect(restarted.client_uri_verification).toEqual({ status: "pending", text });
    t.txt.set(HOST, [[text]]);
    await t.advance(30 * SECOND);
    expect(await t.status(client_id)).toBe("verified");
  });

  it("a new host restarts the schedule with the new text", async () => {
    const t = setup();
    const { client_id } = await t.createClient();
    await t.advance(5 * HOUR);
    const moved = await t.registry.update(ACCOUNT, client_id, { client_uri: "https://other.example.org/" });
    t.txt.set("other.example.org", [[moved.client_uri_verification!.text]]);
    const checksBefore = t.lookups.length;
    await t.advance(30 * SECOND);
    expect(t.lookups.slice(checksBefore)).toEqual([{ host: "other.example.org", at: 5 * HOUR + 30 * SECOND }]);
    expect(await t.status(client_id)).toBe("verified");
  });

  it("a client created without client_uri, or named by schedule() in a malformed account, is read once and forgotten", async () => {
    const errors: unknown[] = [];
    const t = setup({ onError: (e) => errors.push(e) });
    await t.registry.create(ACCOUNT, createBody());
    t.scheduler.schedule("bad\u0000account", "0".repeat(32));
    expect(t.scheduler.size).toBe(2);
    await t.advance(30 * SECOND);
    expect(t.scheduler.size).toBe(0);
    expect(t.lookups).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("forgets a client that is deleted or whose client_uri is cleared", async () => {
    const t = setup();
    const a = await t.createClient();
    const b = await t.createClient();
    expect(t.scheduler.size).toBe(2);
    await t.registry.delete(ACCOUNT, a.client_id);
    await t.registry.update(ACCOUNT, b.client_id, { client_uri: null });
    await t.advance(HOUR);
    expect(t.lookups).toEqual([]);
    expect(t.scheduler.size).toBe(0);
  });

  it("a restarted process resumes pending checks from the store on its schedule", async () => {
    const store = createMemoryStore();
    const first = setup({}, { store });
    const { client_id, text } = await first.createClient();
    await first.advance(90 * SECOND); // two misses
    await first.scheduler.close();
    expect(await first.status(client_id)).toBe("in_progress");

    // Ten minutes later, a new process over the same store, told which account to watch.
    const second = setup({ accounts: [ACCOUNT] }, { store, start: new Date(first.clock.now().getTime() + 10 * MINUTE).toISOString() });
    second.txt.set(HOST, [[text]]);
    await second.advance(0);
    expect(second.scheduler.size).toBe(1);
    await second.advance(15 * MINUTE);
    expect(second.lookups).toHaveLength(1);
    expect(await second.status(client_id)).toBe("verified");
  });

  it("a pending check whose window passed while no process ran gets one last check, then failed", async () => {
    const store = createMemoryStore();
    const first = setup({}, { store });
    const { client_id } = await first.createClient();
    await first.scheduler.close();
    const second = setup({ accounts: [ACCOUNT] }, { store, start: "2026-01-04T00:00:00.000Z" });
    await second.advance(SECOND);
    expect(second.lookups).toEqual([{ host: HOST, at: 0 }]);
    expect(await second.status(client_id)).toBe("failed");
  });

  it("watchAccount sweeps an account once when first named, and again at each periodic sweep", async () => {
    const store = createMemoryStore();
    const first = setup({}, { store });
    const { client_id } = await first.createClient();
    await first.scheduler.close();
    const second = setup({ sweepIntervalMs: HOUR }, { store });
    await second.advance(0);
    expect(second.scheduler.size).toBe(0);
    second.scheduler.watchAccount(ACCOUNT);
    await second.advance(0);
    expect(second.scheduler.size).toBe(1);
    // A client created by another process after the sweep is found by the next one.
    const other = await first.registry.create(ACCOUNT, createBody({ client_uri: "https://late.example.com" }));
    await second.advance(HOUR);
    expect(second.scheduler.size).toBe(2);
    await second.advance(2 * HOUR);
    expect(second.lookups.map((l) => l.host)).toContain("late.example.com");
    expect(await second.status(other.client_id)).toBe("in_progress");
    expect(await second.status(client_id)).toBe("in_progress");
  });

  it("given a store that lists its accounts, a restarted process resumes pending checks in accounts nobody named", async () => {
    const store = createMemoryStore();
    const first = setup({}, { store });
    const { client_id, text } = await first.createClient();
    const other = await first.registry.create("acct_unnamed", createBody({ client_uri: "https://other.example.com" }));
    await first.registry.create("acct_plain", createBody({}));
    await first.scheduler.close();

    // A new process over the same store, told no account at all.
    const second = setup({ store }, { store, start: new Date(first.clock.now().getTime() + 10 * MINUTE).toISOString() });
    second.txt.set(HOST, [[text]]);
    await second.advance(0);
    expect(second.scheduler.size).toBe(2);
    await second.advance(15 * MINUTE);
    expect(await second.status(client_id)).toBe("verified");
    expect(second.lookups.map((l) => l.host)).toContain("other.example.com");
    expect((await second.registry.get("acct_unnamed", other.client_id)).client_uri_verification?.status).toBe("in_progress");

    // Without the capability, only named accounts are swept (as before).
    const { listAccounts: _hidden, ...unlisted } = store;
    const third = setup({ store: unlisted }, { store });
    await third.advance(0);
    expect(third.scheduler.size).toBe(0);
  });

  it("a sweep lists at most maxAccounts accounts; the next sweep goes on after the last one, then starts over", async () => {
    const store = createMemoryStore();
    const first = setup({}, { store });
    const accounts = ["acct_a", "acct_b", "acct_c"];
    for (const account of accounts) await first.registry.create(account, createBody({ client_uri: `https://${account}.example.com` }));
    await first.scheduler.close();

    const listed: (string | undefined)[] = [];
    const spy: ClientStore = {
      ...store,
      listAccounts: (query) => {
        listed.push(query.after);
        return store.listAccounts!(query);
      },
    };
    const second = setup({ store: spy, maxAccounts: 2, sweepIntervalMs: HOUR }, { store });
    await second.advance(0);
    expect(second.scheduler.size).toBe(2);
    expect(listed).toEqual([undefined]);
    await second.advance(HOUR);
    expect(second.scheduler.size).toBe(3);
    expect(listed).toEqual([undefined, "acct_b"]);
    await second.advance(HOUR);
    expect(listed).toEqual([undefined, "acct_b", undefined]);
  });

  it("a listing that fails is reported; named accounts are still swept, and the next sweep lists again", async () => {
    const store = createMemoryStore();
    const first = setup({}, { store });
    await first.createClient();
    await first.scheduler.close();
    const errors: unknown[] = [];
    let fail = true;
    const flaky: ClientStore = {
      ...store,
      listAccounts: async (query) => {
        if (fail) throw new Error("storage down");
        return store.listAccounts!(query);
      },
    };
    const second = setup({ store: flaky, sweepIntervalMs: HOUR, onError: (error) => errors.push(error) }, { store });
    await second.advance(0);
    expect(errors).toHaveLength(1);
    expect(second.scheduler.size).toBe(0);
    fail = false;
    await second.advance(HOUR);
    expect(second.scheduler.size).toBe(1);
  });

  it("a DNS server that never answers holds at most `concurrency` lookups and blocks no request", async () => {
    const t = setup({ concurrency: 2 }, { resolve: () => () => new Promise<string[][]>(() => {}) });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.createClient(`https://h${i}.example.com`)).client_id);
    await t.advanceOnly(30 * SECOND);
    expect(t.lookups.map((l) => l.host)).toEqual(["h0.example.com", "h1.example.com"]);
    // Requests go on meanwhile: read, update, create.
    expect((await t.registry.get(ACCOUNT, ids[4]!)).client_uri_verification?.status).toBe("pending");
    expect((await t.registry.update(ACCOUNT, ids[4]!, { client_name: "Still served" })).client_name).toBe("Still served");
    await t.createClient("https://later.example.com");
    await t.advanceOnly(HOUR);
    expect(t.lookups).toHaveLength(2);
  });

  it("with resolveTxtWithTimeout, a hung lookup ends as a miss and frees its slot for the next client", async () => {
    const t = setupWithTimeout(5 * SECOND);
    for (let i = 0; i < 3; i++) await t.createClient(`https://h${i}.example.com`);
    await t.advanceOnly(30 * SECOND + 5 * SECOND);
    // One slot: h0 hangs until its timeout, then h1 starts.
    expect(t.lookups.map((l) => [l.host, l.at])).toEqual(
      expect.arrayContaining([
        ["h0.example.com", 30 * SECOND],
        ["h1.example.com", 35 * SECOND],
      ]),
    );
  });

  it("storage failures are reported and the check is tried again later", async () => {
    const errors: unknown[] = [];
    const base = createMemoryStore();
    let failing = false;
    const store: ClientStore = { ...base, get: (a, c) => (failing ? Promise.reject(new Error("database is down")) : base.get(a, c)) };
    const t = setup({ onError: (e) => errors.push(e) }, { store });
    const { client_id, text } = await t.createClient();
    failing = true;
    await t.advance(30 * SECOND);
    expect(errors.length).toBeGreaterThan(0);
    failing = false;
    t.txt.set(HOST, [[text]]);
    await t.advance(5 * MINUTE);
    expect(await t.status(client_id)).toBe("verified");
  });

  it("close stops every timer and schedules nothing more", async () => {
    const t = setup();
    await t.createClient();
    await t.scheduler.close();
    expect(t.pendingTimers()).toBe(0);
    await t.createClient();
    expect(t.scheduler.size).toBe(0);
  });

  it("refuses nonsensical options with a TypeError", () => {
    const registry = createOAuthClientRegistry(createMemoryStore());
    expect(() => createVerificationScheduler(registry, { windowMs: 0 })).toThrow(TypeError);
    expect(() => createVerificationScheduler(registry, { concurrency: Number.NaN })).toThrow(/concurrency/);
  });
});

describe("verifyClientUri options", () => {
  it("final: false leaves a miss in_progress with one write; a later final miss stores failed", async () => {
    const { registry, events } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ client_uri: `https://${HOST}` }));
    const first = await registry.verifyClientUri(ACCOUNT, created.client_id, { final: false });
    expect(first.client_uri_verification?.status).toBe("in_progress");
    const second = await registry.verifyClientUri(ACCOUNT, created.client_id, { final: false });
    expect(second).toEqual(first);
    expect(events.filter((e) => e.type === "client.uri_verification_changed")).toEqual([]);
    const last = await registry.verifyClientUri(ACCOUNT, created.client_id);
    expect(last.client_uri_verification?.status).toBe("failed");
    expect(events.filter((e) => e.type === "client.uri_verification_changed").map((e) => "status" in e && e.status)).toEqual(["failed"]);
  });

  it("expectedVersion: a stale one is PreconditionFailedError before any lookup", async () => {
    const lookups: string[] = [];
    const { registry } = registryFixture({
      resolveTxt: async (host) => {
        lookups.push(host);
        return [];
      },
    });
    const created = await registry.create(ACCOUNT, createBody({ client_uri: `https://${HOST}` }));
    await registry.update(ACCOUNT, created.client_id, { client_name: "Renamed" });
    await expect(registry.verifyClientUri(ACCOUNT, created.client_id, { expectedVersion: 1 })).rejects.toMatchObject({ code: "precondition_failed", status: 412 });
    expect(lookups).toEqual([]);
    const checked = await registry.verifyClientUri(ACCOUNT, created.client_id, { expectedVersion: 2 });
    expect(checked.client_uri_verification?.status).toBe("failed");
  });
});

describe("resolveTxtWithTimeout", () => {
  it("passes answers and errors through, and rejects with TxtLookupTimeoutError when the server is silent", async () => {
    const t = setup();
    const fake = fakeTimers(t.clock);
    const answering = resolveTxtWithTimeout(async () => [["a"]], 1000, fake.timers);
    await expect(answering("x.example")).resolves.toEqual([["a"]]);
    const failing = resolveTxtWithTimeout(async () => Promise.reject(new Error("SERVFAIL")), 1000, fake.timers);
    await expect(failing("x.example")).rejects.toThrow("SERVFAIL");
    const silent = resolveTxtWithTimeout(() => new Promise<string[][]>(() => {}), 1000, fake.timers);
    const pending = silent("x.example");
    const outcome = pending.then(() => "answered", (error: unknown) => error);
    await fake.advance(1000);
    const error = await outcome;
    expect(error).toBeInstanceOf(TxtLookupTimeoutError);
    expect((error as TxtLookupTimeoutError).code).toBe("txt_lookup_timeout");
  });

  it("makes a check of a silent server end as failed instead of hanging", async () => {
    const t = setupWithTimeout(5 * SECOND);
    const { client_id } = await t.createClient();
    const check = t.registry.verifyClientUri(ACCOUNT, client_id);
    await t.advanceOnly(5 * SECOND);
    expect((await check).client_uri_verification?.status).toBe("failed");
  });
});

/** Like {@link setup}, with one check at a time and a silent DNS server behind resolveTxtWithTimeout on the same fake timers. */
function setupWithTimeout(timeoutMs: number) {
  const silent: ResolveTxt = () => new Promise<string[][]>(() => {});
  return setup({ concurrency: 1 }, { resolve: (timers) => resolveTxtWithTimeout(silent, timeoutMs, timers) });
}
