/**
 * Two writers, one database, every store: two registries, each over its own
 * store (its own connection where the adapter has one), race each other.
 * Every row of helpers/multi-writer-stores.ts runs every scenario of
 * helpers/storage-scenarios.ts on a fresh database.
 */
import { afterAll, afterEach, beforeEach, describe, it } from "vitest";
import { createOAuthClientRegistry } from "../src/index.js";
import { multiWriterStores, type SharedDatabase } from "./helpers/multi-writer-stores.js";
import {
  createAndRotate,
  expectConcurrentUpdatesAllSurvive,
  expectExactlyOneRotationWins,
  expectNoLostIncrementsWithIfMatch,
  expectOnlyHashesAtRest,
  twoRegistries,
} from "./helpers/storage-scenarios.js";

for (const row of multiWriterStores()) {
  const suite = row.skipReason === undefined ? describe : describe.skip;
  suite(`two writers over one database: ${row.name}${row.skipReason ? ` (${row.skipReason})` : ""}`, () => {
    let db: SharedDatabase | undefined;
    const opened = () => db!;
    // Reads what the other writer's store holds, so every write is checked across connections.
    const readStored = (accountId: string, clientId: string) => opened().stores[1].get(accountId, clientId);
    const registries = () => twoRegistries(...opened().stores);

    // A row's first open may start a database engine: PGlite takes seconds, more on a busy machine.
    beforeEach(async () => {
      db = undefined;
      db = await row.open();
    }, 60_000);
    afterEach(() => db?.close());
    afterAll(() => row.dispose());

    it("keeps every one of 20 concurrent updates", async () => {
      await expectConcurrentUpdatesAllSurvive(registries(), readStored);
    });

    it("GET-then-PATCH with If-Match from sixteen workers loses no acknowledged increment", async () => {
      await expectNoLostIncrementsWithIfMatch(registries());
    });

    it("lets exactly one of 10 concurrent rotations win; the rest get Conflict", async () => {
      await expectExactlyOneRotationWins(registries());
    });

    it("never stores a client secret at rest, only its hash", async () => {
      const { secrets, hashes, clientId } = await createAndRotate(createOAuthClientRegistry(opened().stores[0]), readStored);
      expectOnlyHashesAtRest(await opened().readAtRest(clientId), secrets, hashes);
    });

    if (row.outlivesStores) {
      it("keeps no client secret in the file once the stores have closed", async () => {
        const { secrets, hashes, clientId } = await createAndRotate(createOAuthClientRegistry(opened().stores[0]), readStored);
        await opened().close();
        expectOnlyHashesAtRest(await opened().readAtRest(clientId), secrets, hashes);
      });
    }
  });
}
