// Fairness of single-use state (issue 20, item 1): one client's assertions
// never use up what another client needs. The lockout of the issue — one
// self-registered client filling the process-wide replay cache with valid
// assertions — is replayed with small limits and an injected clock, on the
// cache alone and through registry.authenticateAssertion.
import fc from "fast-check";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_REPLAY_CACHE_MAX_ENTRIES,
  DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT,
  DEFAULT_REPLAY_CACHE_RESERVED_ENTRIES_PER_CLIENT,
  createMemoryReplayCache,
  type RegistryEvent,
} from "../src/index.js";
import { createBody, fakeClock, registryFixture } from "./helpers/registry.js";

describe("replay cache fairness: the per-client budget", () => {
  it("refuses a client at its budget alone, and admits it again once its entries expire", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    const cache = createMemoryReplayCache({ maxEntries: 100, maxEntriesPerClient: 3, reservedEntriesPerClient: 1, now: clock.now });
    for (const key of ["a1", "a2", "a3"]) expect(cache.add(key, clock.ms() + 1000, { clientId: "attacker" })).toBe(true);
    expect(cache.add("a4", clock.ms() + 1000, { clientId: "attacker" })).toBe("over_budget");
    expect(cache.add("v1", clock.ms() + 1000, { clientId: "victim" })).toBe(true);
    // Replays are still replays, whatever the budget.
    expect(cache.add("a1", clock.ms() + 1000, { clientId: "attacker" })).toBe(false);
    expect(cache.add("v1", clock.ms() + 1000, { clientId: "victim" })).toBe(false);
    clock.advance(1000);
    expect(cache.add("a4", clock.ms() + 1000, { clientId: "attacker" })).toBe(true);
  });

  it("keeps each client's floor out of reach of other clients' entries beyond theirs", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    // 10 keys: a reserve of 4 (two clients × a floor of 2) and a shared part of 6.
    const cache = createMemoryReplayCache({ maxEntries: 10, maxEntriesPerClient: 8, reservedEntriesPerClient: 2, reservedEntries: 4, now: clock.now });
    const admitted = (clientId: string, count: number) =>
      Array.from({ length: count }, (_, i) => cache.add(`${clientId}-${i}`, clock.ms() + 1000, { clientId }));
    // The attacker takes its floor (2) and the whole shared part (6), then is refused alone.
    expect(admitted("attacker", 9)).toEqual([...Array(8).fill(true), "over_budget"]);
    expect(admitted("attacker-2", 3)).toEqual([true, true, "over_budget"]);
    expect(admitted("victim", 1)).toEqual(["full"]);
    expect(cache.size).toBe(10);
  });

  it("with the defaults: one client presenting 100 000 fresh assertions is refused after its budget; another client is not", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    const cache = createMemoryReplayCache({ now: clock.now });
    let accepted = 0;
    let overBudget = 0;
    for (let i = 0; i < DEFAULT_REPLAY_CACHE_MAX_ENTRIES; i++) {
      const result = cache.add(`attacker-${i}`, clock.ms() + 330_000, { clientId: "attacker" });
      if (result === true) accepted++;
      else if (result === "over_budget") overBudget++;
    }
    expect(accepted).toBe(DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT);
    expect(overBudget).toBe(DEFAULT_REPLAY_CACHE_MAX_ENTRIES - DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT);
    expect(cache.add("victim-1", clock.ms() + 60_000, { clientId: "victim" })).toBe(true);
  });

  it("with the defaults: as many attacker clients as the reserve allows, each at its budget, still leave a new client its floor", () => {
    const clock = fakeClock(new Date(Date.UTC(2026, 0, 1)));
    const cache = createMemoryReplayCache({ now: clock.now });
    const floor = DEFAULT_REPLAY_CACHE_RESERVED_ENTRIES_PER_CLIENT;
    const reserve = DEFAULT_REPLAY_CACHE_MAX_ENTRIES / 2;
    const attackers = Math.ceil(reserve / floor) - 1;
    for (let c = 0; c < attackers; c++) {
      // Each attacker client presents assertions until it is refused.
      for (let i = 0; cache.add(`a${c}-${i}`, clock.ms() + 330_000, { clientId: `attacker-${c}` }) === true; i++);
    }
    for (let i = 0; i < floor; i++) expect(cache.add(`victim-${i}`, clock.ms() + 60_000, { clientId: "victim" })).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(DEFAULT_REPLAY_CACHE_MAX_ENTRIES);
  });

  it("never holds more than maxEntries keys, and admits a client under its floor whenever fewer than reserve ÷ floor other clients hold keys", () => {
    type Op = { kind: "attack"; client: number; ttlMs: number } | { kind: "victim"; ttlMs: number } | { kind: "advance"; ms: number };
    const floor = 2;
    const reserve = 8;
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("attack" as const), client: fc.integer({ min: 0, max: reserve / floor - 1 }), ttlMs: fc.integer({ min: 1, max: 50 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("victim" as const), ttlMs: fc.integer({ min: 1, max: 50 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 30 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const clock = fakeClock(new Date(0));
        const cache = createMemoryReplayCache({ maxEntries: 20, maxEntriesPerClient: 6, reservedEntriesPerClient: floor, reservedEntries: reserve, now: clock.now });
        const victimKeys = new Map<string, number>();
        let n = 0;
        for (const step of ops) {
          if (step.kind === "advance") {
            clock.advance(step.ms);
            continue;
          }
          const key = `k${n++}`;
          const expiresAt = clock.ms() + step.ttlMs;
          if (step.kind === "attack") {
            expect([true, "over_budget", "full"]).toContain(cache.add(key, expiresAt, { clientId: `attacker-${step.client}` }));
          } else {
            for (const [k, at] of victimKeys) if (at <= clock.ms()) victimKeys.delete(k);
            const result = cache.add(key, expiresAt, { clientId: "victim" });
            // Three attacker clients can hold at most 3 × floor of the reserve of 4 × floor.
            if (victimKeys.size < floor) expect(result).toBe(true);
            if (result === true) victimKeys.set(key, expiresAt);
          }
          expect(cache.size).toBeLessThanOrEqual(20);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("answers like a model of the rule (per-client counts recomputed from scratch) under any sequence of adds and clock moves", () => {
    type Op = { kind: "add"; key: string; client: string | undefined; ttlMs: number } | { kind: "advance"; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        key: fc.constantFrom(..."abcdefghijklmnop".split("")),
        client: fc.constantFrom("c1", "c2", "c3", undefined),
        ttlMs: fc.integer({ min: -5, max: 50 }),
      }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 30 }) }),
    );
    const limits = fc.record({
      maxEntries: fc.integer({ min: 1, max: 10 }),
      maxEntriesPerClient: fc.integer({ min: 1, max: 6 }),
      reservedEntriesPerClient: fc.integer({ min: 0, max: 4 }),
      reserveShare: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(limits, fc.array(op, { maxLength: 80 }), ({ reserveShare, ...options }, ops) => {
        const reservedEntries = Math.floor(options.maxEntries * reserveShare);
        const clock = fakeClock(new Date(0));
        const cache = createMemoryReplayCache({ ...options, reservedEntries, now: clock.now });
        const floor = Math.min(options.reservedEntriesPerClient, options.maxEntriesPerClient);
        const model = new Map<string, { expiresAt: number; client: string | undefined }>();
        for (const step of ops) {
          if (step.kind === "advance") {
            clock.advance(step.ms);
            continue;
          }
          const now = clock.ms();
          for (const [key, entry] of model) if (entry.expiresAt <= now) model.delete(key);
          const counts = new Map<string, number>();
          for (const { client } of model.values()) if (client !== undefined) counts.set(client, (counts.get(client) ?? 0) + 1);
          const beyond = [...counts.values()].reduce((sum, n) => sum + Math.max(0, n - floor), 0);
          const n = step.client === undefined ? 0 : (counts.get(step.client) ?? 0);
          const expiresAt = now + step.ttlMs;
          let expected: boolean | "over_budget" | "full";
          if (model.has(step.key)) expected = false;
          else if (expiresAt <= now) expected = true;
          else if (step.client === undefined) expected = model.size < options.maxEntries;
          else if (n >= options.maxEntriesPerClient) expected = "over_budget";
          else if (n < floor) expected = model.size < options.maxEntries ? true : "full";
          else expected = beyond < options.maxEntries - reservedEntries && model.size < options.maxEntries ? true : "over_budget";
          if (expected === true && expiresAt > now) model.set(step.key, { expiresAt, client: step.client });
          expect(cache.add(step.key, expiresAt, step.client === undefined ? {} : { clientId: step.client })).toBe(expected);
          expect(cache.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("refuses options that cannot be met", () => {
    expect(() => createMemoryReplayCache({ maxEntriesPerClient: 0 })).toThrow(TypeError);
    expect(() => createMemoryReplayCache({ reservedEntriesPerClient: -1 })).toThrow(TypeError);
    expect(() => createMemoryReplayCache({ maxEntries: 10, reservedEntries: 11 })).toThrow(TypeError);
  });
});

describe("replay cache fairness through authenticateAssertion (the lockout of issue 20, replayed)", () => {
  const TOKEN_ENDPOINT = "https://auth.example.com/token";

  async function signer() {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    return { privateKey, jwk };
  }

  function assertion(key: { privateKey: CryptoKey }, clientId: string, nowSeconds: number, jti = crypto.randomUUID()) {
    return new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(TOKEN_ENDPOINT)
      .setJti(jti)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + 300)
      .sign(key.privateKey);
  }

  const details = (events: RegistryEvent[]) => events.flatMap((e) => (e.type === "client.authentication_failed" ? [e.detail] : []));

  it("self-registered clients filling the cache leave another client's fresh assertion accepted; they are refused with too_many_assertions", async () => {
    const attackerKey = await signer();
    const victimKey = await signer();
    const clock = fakeClock();
    // 40 keys: a reserve of 20 (floor 2), a shared part of 20, 10 per client.
    const replayCache = createMemoryReplayCache({ maxEntries: 40, maxEntriesPerClient: 10, reservedEntriesPerClient: 2, reservedEntries: 20, now: clock.now });
    const { registry, events } = registryFixture({ now: clock.now, privateKeyJwt: { verifier: { replayCache } } });
    const body = (key: { jwk: JWK }) => createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.jwk] } });
    const attackers = await Promise.all([0, 1, 2].map(() => registry.registerClient("acct", body(attackerKey))));
    const victim = await registry.create("acct", body(victimKey));
    const now = Math.floor(clock.now().getTime() / 1000);

    // Each attacker client presents valid assertions with fresh jtis until it is refused.
    let accepted = 0;
    for (const { client } of attackers) {
      for (;;) {
        const auth = await registry.authenticateAssertion(await assertion(attackerKey, client.client_id, now), { audience: TOKEN_ENDPOINT });
        if (auth === null) break;
        accepted++;
      }
    }
    // Two clients take their budget of 10 (2 from the reserve, 8 shared); the
    // third its floor of 2 and the 4 shared entries left.
    expect(accepted).toBe(10 + 10 + 6);
    expect(replayCache.size).toBe(26);
    expect(details(events)).toEqual(["too_many_assertions", "too_many_assertions", "too_many_assertions"]);
    const refused = events.filter((e) => e.type === "client.authentication_failed");
    expect(refused.map((e) => e.client_id)).toEqual(attackers.map(({ client }) => client.client_id));

    const jwt = await assertion(victimKey, victim.client_id, now);
    expect(await registry.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toMatchObject({ client: { client_id: victim.client_id } });
    // Single use still holds for the victim.
    expect(await registry.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toBeNull();
    expect(details(events).at(-1)).toBe("replayed");
    // The attackers are still refused alone…
    expect(await registry.authenticateAssertion(await assertion(attackerKey, attackers[0]!.client.client_id, now), { audience: TOKEN_ENDPOINT })).toBeNull();
    expect(details(events).at(-1)).toBe("too_many_assertions");
    // …until their assertions expire (300 s of lifetime and 30 s of tolerance).
    clock.advance(331_000);
    const later = Math.floor(clock.now().getTime() / 1000);
    expect(await registry.authenticateAssertion(await assertion(attackerKey, attackers[0]!.client.client_id, later), { audience: TOKEN_ENDPOINT })).not.toBeNull();
  });
});
