/**
 * Multi-writer scenarios, run by test/multi-writer.test.ts over every store:
 * two registries, each with its own store over one database, race each
 * other. Each helper asserts the outcome itself and returns what the caller
 * may check further.
 */
import { expect } from "vitest";
import {
  createOAuthClientRegistry,
  type CreateClientInput,
  type OAuthClient,
  type OAuthClientRegistry,
  type UpdateClientInput,
} from "../../src/index.js";
import type { ClientStore, StoredClient } from "../../src/model/store.js";
import { createFetchHandler, type FetchHandler } from "../../src/http/index.js";
import { createBody } from "./registry.js";

/**
 * The client every scenario races on. Without refresh_token its scopes read
 * back as sent, so each rival scope patch below is a change of value.
 */
export const CONFIDENTIAL_CLIENT: CreateClientInput = createBody({
  grant_types: ["authorization_code"],
  scopes: ["profile", "email"],
  token_endpoint_auth_method: "client_secret_basic",
});

/** Twenty writers may each lose up to nineteen races before they win one. */
const MAX_WRITE_ATTEMPTS = 40;

/** Two registries, one per store, as two processes sharing a database would have. */
export function twoRegistries(storeA: ClientStore, storeB: ClientStore): [OAuthClientRegistry, OAuthClientRegistry] {
  const options = { maxWriteAttempts: MAX_WRITE_ATTEMPTS, resolveTxt: async () => [] };
  return [createOAuthClientRegistry(storeA, options), createOAuthClientRegistry(storeB, options)];
}

export function newAccount(): string {
  return `acct_${Math.random().toString(36).slice(2)}`;
}

/** Per field, the value each of the two writers sets; both differ from the created client. */
const RIVAL_PATCHES: readonly [UpdateClientInput, UpdateClientInput][] = [
  [{ client_name: "Name from A" }, { client_name: "Name from B" }],
  [{ logo_uri: "https://a.example.com/logo.png" }, { logo_uri: "https://b.example.com/logo.png" }],
  [{ policy_uri: "https://a.example.com/privacy" }, { policy_uri: "https://b.example.com/privacy" }],
  [{ tos_uri: "https://a.example.com/terms" }, { tos_uri: "https://b.example.com/terms" }],
  [{ client_uri: "https://a.example.com" }, { client_uri: "https://b.example.com" }],
  [{ allowed_cors_origins: ["https://a.example.com"] }, { allowed_cors_origins: ["https://b.example.com"] }],
  [
    { post_logout_redirect_uris: ["https://a.example.com/bye"] },
    { post_logout_redirect_uris: ["https://b.example.com/bye"] },
  ],
  [{ redirect_uris: ["https://a.example.com/cb"] }, { redirect_uris: ["https://b.example.com/cb"] }],
  [{ scopes: ["profile"] }, { scopes: ["email"] }],
  [{ token_endpoint_auth_method: "client_secret_post" }, { token_endpoint_auth_method: "client_secret_post" }],
];

/**
 * Twenty concurrent updates of one client, ten through each registry, two
 * per field. Every update must succeed, the stored version must have
 * advanced by exactly twenty (each write built on the one before it, none
 * overwrote another from a stale read), and every field must hold a value
 * one of its writers set.
 */
export async function expectConcurrentUpdatesAllSurvive(
  [a, b]: [OAuthClientRegistry, OAuthClientRegistry],
  readStored: (accountId: string, clientId: string) => Promise<StoredClient | null>,
): Promise<OAuthClient> {
  const account = newAccount();
  const { client_id } = await a.create(account, CONFIDENTIAL_CLIENT);
  const versionBefore = (await readStored(account, client_id))!.version;

  const writes = RIVAL_PATCHES.flatMap(([fromA, fromB]) => [
    a.update(account, client_id, fromA),
    b.update(account, client_id, fromB),
  ]);
  expect(writes).toHaveLength(20);
  const outcomes = await Promise.allSettled(writes);
  expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);

  const stored = (await readStored(account, client_id))!;
  expect(stored.version).toBe(versionBefore + 20);
  const final = await b.get(account, client_id);
  for (const [fromA, fromB] of RIVAL_PATCHES) {
    const field = Object.keys(fromA)[0] as keyof UpdateClientInput & keyof OAuthClient;
    expect([fromA[field], fromB[field]]).toContainEqual(final[field]);
  }
  return final;
}

/**
 * Ten concurrent rotations of one secret, five through each registry:
 * exactly one wins; the rest see the rotated secret it left and answer
 * Conflict (409, rotated_secret_exists). Both secrets then authenticate.
 */
export async function expectExactlyOneRotationWins([a, b]: [OAuthClientRegistry, OAuthClientRegistry]): Promise<void> {
  const account = newAccount();
  const created = await a.create(account, CONFIDENTIAL_CLIENT);
  const rotations = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).rotateSecret(account, created.client_id));
  const outcomes = await Promise.allSettled(rotations);

  const won = outcomes.filter((o) => o.status === "fulfilled");
  const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(9);
  for (const { reason } of lost) expect(reason).toMatchObject({ code: "rotated_secret_exists", status: 409 });

  const newSecret = (won[0] as PromiseFulfilledResult<{ client_secret: string }>).value.client_secret;
  expect(await b.authenticate(created.client_id, newSecret)).toMatchObject({ matched: "current" });
  expect(await a.authenticate(created.client_id, created.client_secret!)).toMatchObject({ matched: "rotated" });
  expect((await a.get(account, created.client_id)).has_rotated_secret).toBe(true);
}

/**
 * Creates a confidential client and rotates its secret, returning both
 * secrets and the hashes now stored, for at-rest checks of the raw storage.
 */
export async function createAndRotate(
  registry: OAuthClientRegistry,
  readStored: (accountId: string, clientId: string) => Promise<StoredClient | null>,
): Promise<{ secrets: string[]; hashes: string[]; clientId: string }> {
  const account = newAccount();
  const created = await registry.create(account, CONFIDENTIAL_CLIENT);
  const { client_secret } = await registry.rotateSecret(account, created.client_id);
  const stored = (await readStored(account, created.client_id))!;
  expect(stored.secret_hash).not.toBeNull();
  expect(stored.rotated_secret_hash).not.toBeNull();
  return {
    secrets: [created.client_secret!, client_secret],
    hashes: [stored.secret_hash!, stored.rotated_secret_hash!],
    clientId: created.client_id,
  };
}

/** Asserts no secret occurs in `haystack`, while every hash does (so the bytes read are the right ones). */
export function expectOnlyHashesAtRest(haystack: Buffer | string, secrets: string[], hashes: string[]): void {
  const bytes = typeof haystack === "string" ? Buffer.from(haystack, "utf8") : haystack;
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThanOrEqual(43);
    expect(bytes.includes(Buffer.from(secret, "utf8")), "a plaintext secret was found at rest").toBe(false);
  }
  for (const hash of hashes) expect(bytes.includes(Buffer.from(hash, "utf8"))).toBe(true);
}

/**
 * Sixteen workers, half behind each registry's HTTP handler, each adding
 * one to a counter kept in client_name by GET-then-PATCH with `If-Match`,
 * retrying on 412. Every acknowledged increment must be in the final value:
 * without the precondition, concurrent read-modify-write cycles overwrite
 * each other.
 */
export async function expectNoLostIncrementsWithIfMatch(
  [a, b]: [OAuthClientRegistry, OAuthClientRegistry],
  { workers = 16, incrementsEach = 4 }: { workers?: number; incrementsEach?: number } = {},
): Promise<void> {
  const account = newAccount();
  const created = await a.create(account, { ...CONFIDENTIAL_CLIENT, client_name: "counter 0" });
  const handlers = [a, b].map((registry) => createFetchHandler(registry, { authorize: () => true, onError: () => {} }));
  const path = `http://localhost/client/v4/accounts/${account}/oauth_clients/${created.client_id}`;
  let acknowledged = 0;
  let preconditionFailures = 0;

  async function worker(handler: FetchHandler): Promise<void> {
    for (let done = 0; done < incrementsEach; ) {
      const read = await handler(new Request(path));
      expect(read.status).toBe(200);
      const etag = read.headers.get("etag")!;
      const count = Number(((await read.json()) as { result: OAuthClient }).result.client_name.split(" ")[1]);
      const write = await handler(
        new Request(path, {
          method: "PATCH",
          headers: { "content-type": "application/json", "if-match": etag },
          body: JSON.stringify({ client_name: `counter ${count + 1}` }),
        }),
      );
      if (write.status === 412) {
        preconditionFailures++;
        continue;
      }
      expect(write.status).toBe(200);
      expect(write.headers.get("etag")).not.toBe(etag);
      acknowledged++;
      done++;
    }
  }

  await Promise.all(Array.from({ length: workers }, (_, i) => worker(handlers[i % 2]!)));
  expect(acknowledged).toBe(workers * incrementsEach);
  expect((await b.get(account, created.client_id)).client_name).toBe(`counter ${acknowledged}`);
  // The workers did collide; the precondition is what kept every increment.
  expect(preconditionFailures).toBeGreaterThan(0);
}
