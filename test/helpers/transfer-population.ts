/**
 * A population of real clients for the copy / export / import tests: made
 * by the registry (so hashes, rotations, registration tokens and last-use
 * times are what the registry writes), with the plaintext secrets and
 * tokens kept aside, so that after a move every client can be proven to
 * authenticate as before.
 */
import { expect } from "vitest";
import { createMemoryStore } from "../../adapters/memory.js";
import { clientEtag } from "../../src/http/etag.js";
import { createFetchHandler } from "../../src/http/handler.js";
import { createOAuthClientRegistry } from "../../src/registry/registry.js";
import type { OAuthClientRegistry } from "../../src/registry/api.js";
import type { ClientStore, StoredClient } from "../../src/model/store.js";
import { makeLargeStoredClient } from "../../src/testing/records.js";

/** A client and the credentials it was given. */
export interface PopulatedClient {
  account_id: string;
  client_id: string;
  /** The current secret. */
  secret: string;
  /** The previous secret, still in its rotation window. */
  rotated: string | null;
  /** RFC 7592 registration access token. */
  token: string | null;
}

/** The clients, their credentials, and every stored record. */
export interface Population {
  clients: PopulatedClient[];
  records: StoredClient[];
}

const CLIENT = {
  redirect_uris: ["https://app.example.com/callback"],
  grant_types: ["authorization_code" as const, "refresh_token" as const],
  response_types: ["code" as const],
  scopes: ["profile"],
  token_endpoint_auth_method: "client_secret_basic" as const,
};

/**
 * `count` clients over `accounts` accounts: every 4th registered through
 * RFC 7591 (a registration token, source "dcr"), every 3rd rotated with a
 * day of grace (a rotated hash and its end), every 5th authenticated (last
 * use times), every 7th updated (version 2), plus one record with every
 * optional field set and mixed scripts.
 *
 * @example
 * const { clients, records } = await populate(2000, 7);
 */
export async function populate(count: number, accounts: number): Promise<Population> {
  const store = createMemoryStore();
  const registry: OAuthClientRegistry = createOAuthClientRegistry(store);
  const clients: PopulatedClient[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = `acct_${i % accounts}`;
    let client: PopulatedClient;
    if (i % 4 === 0) {
      const registered = await registry.registerClient(accountId, { ...CLIENT, client_name: `Registered ${i}` });
      client = {
        account_id: accountId,
        client_id: registered.client.client_id,
        secret: registered.client_secret!,
        rotated: null,
        token: registered.registration_access_token!,
      };
    } else {
      const created = await registry.create(accountId, { ...CLIENT, client_name: `App ${i} — ünïcödé 🚀` });
      client = { account_id: accountId, client_id: created.client_id, secret: created.client_secret!, rotated: null, token: null };
    }
    if (i % 3 === 0) {
      const { client_secret } = await registry.rotateSecret(accountId, client.client_id, { gracePeriodMs: 86_400_000 });
      client.rotated = client.secret;
      client.secret = client_secret;
    }
    if (i % 5 === 0) await registry.authenticate(client.client_id, client.secret);
    if (i % 7 === 0) await registry.update(accountId, client.client_id, { client_name: `Updated ${i}` });
    clients.push(client);
  }
  const large = makeLargeStoredClient({ account_id: "acct_large" });
  await store.insert(large);
  const records: StoredClient[] = [large];
  for (let a = 0; a < accounts; a++) {
    let after = null;
    for (;;) {
      const page = await store.list(`acct_${a}`, { limit: 1000, after });
      if (page.length === 0) break;
      records.push(...page.map((record) => structuredClone(record)));
      const last = page[page.length - 1]!;
      after = { created_at: last.created_at, client_id: last.client_id };
    }
  }
  return { clients, records };
}

/**
 * Proves a population arrived as it left: every record equal to the
 * original, every client authenticating with its current secret and, when
 * rotated, its previous one, every registration token reading its client,
 * and the ETag served over HTTP the original's.
 *
 * @example
 * await proveMoved(createSqliteStore(file), population);
 */
export async function proveMoved(store: ClientStore, population: Population): Promise<void> {
  for (const record of population.records) {
    expect(await store.getById(record.client_id), record.client_id).toEqual(record);
  }
  const registry = createOAuthClientRegistry(store);
  const handler = createFetchHandler(registry, { authorize: () => true });
  const versions = new Map(population.records.map((r) => [r.client_id, r.version]));
  for (const [index, client] of population.clients.entries()) {
    // Before authenticating: a recorded use is a write, which bumps the version.
    if (index % 97 === 0) {
      const response = await handler(new Request(`http://localhost/client/v4/accounts/${client.account_id}/oauth_clients/${client.client_id}`));
      expect(response.headers.get("etag")).toBe(clientEtag(versions.get(client.client_id)!));
    }
    expect((await registry.authenticate(client.client_id, client.secret))?.matched, client.client_id).toBe("current");
    if (client.rotated !== null) expect((await registry.authenticate(client.client_id, client.rotated))?.matched).toBe("rotated");
    if (client.token !== null) expect((await registry.readRegistration(client.client_id, client.token))?.client.client_id).toBe(client.client_id);
  }
}
