/**
 * RFC 7592 costs the same either way: a request with a wrong registration
 * access token on an existing client and one on an unknown client id run
 * the same code (the unknown one against a decoy record), so their timings
 * differ by noise only. Compared with a rank test over one interleaved run,
 * never against a wall-clock threshold: a loaded machine slows both alike.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { mannWhitney, type RankTestResult } from "./helpers/rank-test.js";
import { registryFixture } from "./helpers/registry.js";

const SAMPLES = 400;
/**
 * Requests timed together as one sample: a single request takes ~2–5 µs,
 * close to the timer's resolution and the scheduler's jitter; eight in a row
 * average that out while the difference under test adds up.
 */
const BATCH = 8;
const WARM_UP = 2000;
/**
 * Bound on |z|. Before the decoy record, runs of this test gave z from 5.2
 * to 17 (the wrong token slower by ~0.6 µs a batch of ~15 µs); with it,
 * from -2.2 to 1.1. When both cost the same, |z| ≥ 4 has a chance of about
 * 6 in 100,000 a run.
 */
const Z_BOUND = 6;
/** A run on a loaded machine can be disturbed by a burst of other work; one clean run of three is enough. */
const ATTEMPTS = 3;

/** A copy of the text in a string of its own, as a request parser hands each request its own strings. */
const fresh = (text: string) => Buffer.from(text, "utf8").toString("utf8");

describe("RFC 7592 timing", () => {
  it("a wrong registration access token on an existing client costs what an unknown client costs (rank test)", async () => {
    const { registry } = registryFixture({ store: createMemoryStore() });
    const { client } = await registry.registerClient("acct", {
      client_name: "Timing",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      redirect_uris: ["https://app.example.com/cb"],
      scopes: [],
      token_endpoint_auth_method: "none",
    });
    const existing = client.client_id;
    const unknown = "0123456789abcdef0123456789abcdef";
    const wrongToken = "W".repeat(43);

    async function sample(clientId: string): Promise<number> {
      const ids = Array.from({ length: BATCH }, () => fresh(clientId));
      const tokens = Array.from({ length: BATCH }, () => fresh(wrongToken));
      let found = null;
      const start = process.hrtime.bigint();
      for (let k = 0; k < BATCH; k++) found ??= await registry.readRegistration(ids[k]!, tokens[k]!);
      const elapsed = Number(process.hrtime.bigint() - start);
      if (found !== null) throw new Error("a wrong token must not read the registration");
      return elapsed;
    }

    for (let i = 0; i < WARM_UP; i++) {
      await sample(existing);
      await sample(unknown);
    }
    const runs: RankTestResult[] = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const wrong: number[] = [];
      const absent: number[] = [];
      // Alternating which goes first cancels any cost of going first or second.
      for (let i = 0; i < SAMPLES; i++) {
        if (i % 2 === 0) {
          wrong.push(await sample(existing));
          absent.push(await sample(unknown));
        } else {
          absent.push(await sample(unknown));
          wrong.push(await sample(existing));
        }
      }
      const result = mannWhitney(wrong, absent);
      runs.push(result);
      if (Math.abs(result.z) < Z_BOUND) break;
    }
    const report = runs.map((r) => `z=${r.z.toFixed(2)} (medians ${(r.medianA / 1000).toFixed(2)} / ${(r.medianB / 1000).toFixed(2)} µs)`);
    expect(Math.abs(runs.at(-1)!.z), report.join("; ")).toBeLessThan(Z_BOUND);
  });
});

describe("the RFC 7592 decoy", () => {
  it("on a store that decodes rows (SQLite), misses and wrong tokens answer null and the right token still reads, updates and deletes", async () => {
    const Database = (await import("better-sqlite3")).default;
    const { createSqliteStore } = await import("../adapters/sqlite.js");
    const db = new Database(":memory:");
    try {
      const { registry } = registryFixture({ store: createSqliteStore(db) });
      const body = {
        client_name: "Decoy",
        grant_types: ["authorization_code" as const],
        response_types: ["code" as const],
        redirect_uris: ["https://app.example.com/cb"],
        scopes: [],
        token_endpoint_auth_method: "none" as const,
      };
      // A miss before any client was read, a hit, then misses on the decoding path.
      expect(await registry.readRegistration("0123456789abcdef0123456789abcdef", "W".repeat(43))).toBeNull();
      const { client, registration_access_token: token } = await registry.registerClient("acct", body);
      expect(await registry.readRegistration(client.client_id, "W".repeat(43))).toBeNull();
      for (const id of ["0123456789abcdef0123456789abcdef", "decoy-registration-client-000000", "", "x".repeat(5000)]) {
        expect(await registry.readRegistration(id, token!)).toBeNull();
        expect(await registry.deleteRegistration(id, token!)).toBe(false);
        expect(await registry.updateRegistration(id, token!, body)).toBeNull();
      }
      expect(await registry.readRegistration(client.client_id, token!)).toMatchObject({ account_id: "acct" });
      const updated = await registry.updateRegistration(client.client_id, token!, { ...body, client_name: "Renamed" });
      expect(updated?.client.client_name).toBe("Renamed");
      expect(await registry.deleteRegistration(client.client_id, updated!.registration_access_token!)).toBe(true);
    } finally {
      db.close();
    }
  });
});
