/**
 * What the registry's operation modules (registration, resolution,
 * lifecycle) share with `registry.ts`: the store, the rules, the secret
 * checks and the read-modify-write helpers of one registry.
 */
import type { RegistryEvent } from "../model/events.js";
import type { OAuthClient, RegistryLimits } from "../fields.js";
import type { WriteOptions } from "./api.js";
import type { ClientRules } from "../rules/client.js";
import type { SecretChecks } from "./secret-checks.js";
import type { ClientStore, StoredClient } from "../model/store.js";

/** The internals of one registry that its operation modules use. */
export interface RegistryContext {
  store: ClientStore;
  limits: Readonly<RegistryLimits>;
  now: () => Date;
  /** `now()` as RFC 3339 UTC. */
  timestamp: () => string;
  emit: (event: RegistryEvent) => void;
  /** Whether an event listener is set: events (and their timestamps) are only built then. */
  hasListener: () => boolean;
  secrets: SecretChecks;
  rules: ClientRules;
  newClientId: () => string;
  newSecret: () => string;
  maxWriteAttempts: number;
  /** The client object of a record, version-tagged. */
  toWire: (record: StoredClient) => OAuthClient;
  /** Whether the rotated secret of a record still authenticates. */
  rotatedSecretActive: (record: StoredClient) => boolean;
  /** Refuses an invalid account id with a ValidationError. */
  assertAccountId: (accountId: unknown) => asserts accountId is string;
  /** Compare-and-swap read-modify-write of one client (see registry.ts). */
  mutate: (
    accountId: string,
    clientId: string,
    change: (current: StoredClient) => Promise<StoredClient> | StoredClient,
    expectedVersion?: WriteOptions["expectedVersion"],
  ) => Promise<{ before: StoredClient; after: StoredClient }>;
  /** Inserts a new record, drawing a fresh id while the id is taken. */
  insertWithFreshId: (record: StoredClient) => Promise<StoredClient>;
}
