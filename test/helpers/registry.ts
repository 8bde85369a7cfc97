/**
 * The registry fixture and the create-body builder shared by the tests.
 * Everything that varies is injected (clock, DNS TXT records, client ids,
 * the slow import hasher) and every event is captured, so no test waits for
 * real time, asks real DNS or pays for a full-cost scrypt.
 */
import { createMemoryStore } from "../../adapters/memory.js";
import {
  createOAuthClientRegistry,
  createSecretHasher,
  type ClientStore,
  type CreateClientInput,
  type OAuthClientRegistry,
  type OAuthClientRegistryOptions,
  type RegistryEvent,
  type SecretHasher,
} from "../../src/index.js";

/** Where the fixture clock starts unless a test says otherwise. */
export const FIXTURE_START = "2026-01-01T00:00:00.000Z";

/** scrypt at N = 2^10 (about a millisecond a hash); the default import hasher uses N = 2^17. */
export const cheapImportHasher: SecretHasher = createSecretHasher({ algorithm: "scrypt", scrypt: { logN: 10, r: 8, p: 1 } });

/** A clock that moves only when a test moves it. */
export interface FakeClock {
  now(): Date;
  /** The current time in the registry's wire form (ISO 8601, UTC, milliseconds). */
  iso(): string;
  advance(ms: number): void;
  /** The current time in milliseconds since the epoch. */
  ms(): number;
  /** Moves the clock on by `ms` (one second by default) and returns the new time, as {@link iso}. */
  tick(ms?: number): string;
}

export function fakeClock(start: string | Date = FIXTURE_START): FakeClock {
  let ms = new Date(start).getTime();
  if (Number.isNaN(ms)) throw new TypeError(`fakeClock: not a time: ${String(start)}`);
  const clock: FakeClock = {
    now: () => new Date(ms),
    iso: () => new Date(ms).toISOString(),
    ms: () => ms,
    advance(by) {
      ms += by;
    },
    tick(by = 1000) {
      clock.advance(by);
      return clock.iso();
    },
  };
  return clock;
}

/** Client ids 000…01, 000…02, … in creation order: well-formed, and sorted as they were created. */
export function counterClientIds(): () => string {
  let n = 0;
  return () => (++n).toString(16).padStart(32, "0");
}

export interface RegistryFixtureOptions extends OAuthClientRegistryOptions {
  /** The store under the registry. Default: a fresh memory store. */
  store?: ClientStore;
  /** Where the clock starts. Default {@link FIXTURE_START}. */
  start?: string | Date;
  /** Generate counter ids ({@link counterClientIds}) instead of random ones. */
  counterIds?: boolean;
}

export interface RegistryFixture {
  registry: OAuthClientRegistry;
  store: ClientStore;
  clock: FakeClock;
  /**
   * DNS TXT records by host name, read by the registry's resolver. A host
   * without an entry fails the lookup with ENOTFOUND, as real DNS does.
   */
  txt: Map<string, string[][]>;
  /** Every event the registry emitted, in order (empty when `onEvent` is overridden). */
  events: RegistryEvent[];
}

/**
 * A registry over a memory store (or `options.store`) with a fake clock, a
 * TXT resolver backed by `txt`, event capture and the cheap import hasher.
 * Every registry option passes through and wins over these defaults, an
 * explicit `undefined` included (`{ importHasher: undefined }` restores the
 * registry's own default).
 *
 * @example
 * const { registry, clock, events } = registryFixture({ rotatedSecretTtlMs: HOUR });
 */
export function registryFixture(options: RegistryFixtureOptions = {}): RegistryFixture {
  const { store = createMemoryStore(), start, counterIds = false, ...registryOptions } = options;
  const clock = fakeClock(start);
  const txt = new Map<string, string[][]>();
  const events: RegistryEvent[] = [];
  const registry = createOAuthClientRegistry(store, {
    now: clock.now,
    resolveTxt: async (host) => {
      const records = txt.get(host);
      if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return records;
    },
    onEvent: (event) => {
      events.push(event);
    },
    importHasher: cheapImportHasher,
    ...(counterIds ? { generateClientId: counterClientIds() } : {}),
    ...registryOptions,
  });
  return { registry, store, clock, txt, events };
}

/**
 * A valid create body: a confidential web client (client_secret_basic)
 * with the authorization_code and refresh_token grants, response type
 * code, one https redirect URI and the API scope zone.read. A test passes
 * as overrides every value its assertions depend on.
 *
 * @example
 * await registry.create("acct", createBody({ token_endpoint_auth_method: "none" }));
 */
export function createBody(overrides: Partial<CreateClientInput> = {}): CreateClientInput {
  return {
    client_name: "Dashboard",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: ["https://dash.example.com/callback"],
    scopes: ["zone.read"],
    token_endpoint_auth_method: "client_secret_basic",
    ...overrides,
  };
}
