/**
 * Cached, policy-checked fetching of Client ID Metadata Documents and remote
 * key sets (`jwks_uri`). A client id or key set URL is chosen by whoever
 * presents it, so the cache is what keeps one party from making the server
 * fetch on every request: every result, success or failure, is kept for at
 * least a floor TTL, concurrent requests share one fetch, and the number of
 * entries and of fetches in flight is bounded.
 */
import type { JSONWebKeySet } from "jose";
import { publicKeySetProblem } from "../rules/jwks.js";
import { createDefaultFetcher } from "#platform/transport";
import { RemoteFetchError } from "../platform/errors.js";
import { parseRemoteUrl, type SafeFetcher } from "../platform/transport.js";

/** Bounds of a remote document cache; all durations in seconds. */
export interface RemoteCacheOptions {
  /** Most URLs kept; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** Floor of a document's lifetime, also used for `no-store` and when no max-age is sent. Default 60. */
  minTtlSeconds?: number;
  /** Ceiling of a document's lifetime whatever max-age says. Default 86400. */
  maxTtlSeconds?: number;
  /** How long a failure is remembered and rethrown without fetching again. Default 60. */
  negativeTtlSeconds?: number;
}

/** Options shared by {@link createClientMetadataFetcher} and {@link createRemoteKeySetFetcher}. */
export interface RemoteDocumentFetcherOptions {
  /**
   * The network fetcher. Default: on Node (and Bun, Deno) `createSafeFetcher()`, the
   * pinned-socket fetcher; elsewhere `createFetchTransport()`, the platform's `fetch`
   * with the same bounds but address checks on literal IP hosts only (docs/security.md).
   */
  fetcher?: SafeFetcher;
  cache?: RemoteCacheOptions;
  /** Operator hook run before fetching a URL not in the cache; false refuses it with reason "denied". */
  allowUrl?: (url: URL) => boolean | Promise<boolean>;
  /** Most distinct URLs fetched at the same time; beyond it a fetch is refused with reason "busy". Default 64. */
  maxConcurrentFetches?: number;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Options of {@link createClientMetadataFetcher}. */
export interface ClientMetadataFetcherOptions extends RemoteDocumentFetcherOptions {
  /** Operator hook run on each freshly fetched document; false refuses it with reason "denied". */
  allowDocument?: (url: URL, document: Record<string, unknown>) => boolean | Promise<boolean>;
  /** Body cap in bytes. Default 5120 (5 KiB). */
  maxBytes?: number;
}

/** Options of {@link createRemoteKeySetFetcher}. */
export interface RemoteKeySetFetcherOptions extends RemoteDocumentFetcherOptions {
  /** Body cap in bytes. Default 16384 (16 KiB). */
  maxBytes?: number;
}

/** Fetches a Client ID Metadata Document by its URL (the client id). */
export type ClientMetadataFetcher = (url: string) => Promise<Record<string, unknown>>;

/**
 * Fetches a public key set by its `jwks_uri`; `refresh` fetches again, at
 * most once per `minTtlSeconds`, for a verifier that met an unknown `kid`.
 */
export interface RemoteKeySetFetcher {
  (jwksUri: string): Promise<JSONWebKeySet>;
  refresh(jwksUri: string): Promise<JSONWebKeySet>;
}

type Entry<T> =
  | { ok: true; value: T; fetchedAt: number; expiresAt: number }
  | { ok: false; error: RemoteFetchError; fetchedAt: number; expiresAt: number };

interface Loaded<T> {
  value: T;
  maxAgeSeconds: number | null;
  noStore: boolean;
}

interface RemoteCache<T> {
  get(key: string): Promise<T>;
  refresh(key: string): Promise<T>;
}

function positiveInteger(name: string, value: number, allowZero = false): number {
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(`${name} must be a ${allowZero ? "non-negative" : "positive"} integer`);
  }
  return value;
}

function createRemoteCache<T>(
  load: (key: string) => Promise<Loaded<T>>,
  options: RemoteDocumentFetcherOptions,
  copy: (value: T) => T,
): RemoteCache<T> {
  const cache = options.cache ?? {};
  const maxEntries = positiveInteger("cache.maxEntries", cache.maxEntries ?? 1000);
  const minTtl = positiveInteger("cache.minTtlSeconds", cache.minTtlSeconds ?? 60, true);
  const maxTtl = positiveInteger("cache.maxTtlSeconds", cache.maxTtlSeconds ?? 86_400, true);
  const negativeTtl = positiveInteger("cache.negativeTtlSeconds", cache.negativeTtlSeconds ?? 60, true);
  const maxConcurrent = positiveInteger("maxConcurrentFetches", options.maxConcurrentFetches ?? 64);
  if (minTtl > maxTtl) throw new TypeError("cache.minTtlSeconds must not exceed cache.maxTtlSeconds");
  const now = options.now ?? Date.now;

  // A Map iterates in insertion order; re-inserting on each hit makes its first key the least recently used.
  const entries = new Map<string, Entry<T>>();
  const inFlight = new Map<string, Promise<T>>();

  function store(key: string, entry: Entry<T>): void {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
  }

  function answer(entry: Entry<T>): Promise<T> {
    // Callers get their own copy: one caller changing a document must not change what the next one sees.
    return entry.ok ? Promise.resolve(copy(entry.value)) : Promise.reject(entry.error);
  }

  function fetchAndStore(key: string): Promise<T> {
    const pending = inFlight.get(key);
    if (pending !== undefined) return pending.then(copy);
    if (inFlight.size >= maxConcurrent) {
      return Promise.reject(new RemoteFetchError("busy", key, `Too many remote documents are being fetched; try ${key} again later.`));
    }
    const started = load(key).then(
      (loaded) => {
        const wanted = loaded.noStore || loaded.maxAgeSeconds === null ? minTtl : loaded.maxAgeSeconds;
        const ttl = Math.min(maxTtl, Math.max(minTtl, wanted));
        const at = now();
        store(key, { ok: true, value: loaded.value, fetchedAt: at, expiresAt: at + ttl * 1000 });
        return loaded.value;
      },
      (error: unknown) => {
        // Only refusals are remembered; an operator hook that throws is not the remote side's fault.
        if (error instanceof RemoteFetchError) {
          const at = now();
          store(key, { ok: false, error, fetchedAt: at, expiresAt: at + negativeTtl * 1000 });
        }
        throw error;
      },
    );
    const shared = started.finally(() => inFlight.delete(key));
    inFlight.set(key, shared);
    return shared.then(copy);
  }

  function fresh(key: string): Entry<T> | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (now() >= entry.expiresAt) {
      entries.delete(key);
      return undefined;
    }
    store(key, entry);
    return entry;
  }

  return {
    get(key) {
      const entry = fresh(key);
      return entry === undefined ? fetchAndStore(key) : answer(entry);
    },
    refresh(key) {
      const entry = fresh(key);
      // The min TTL rate-limits refreshes too, so a stream of unknown kids cannot turn into a stream of fetches.
      if (entry !== undefined && now() - entry.fetchedAt < minTtl * 1000) return answer(entry);
      entries.delete(key);
      return fetchAndStore(key);
    },
  };
}

async function checkAllowedUrl(url: URL, input: string, allowUrl: RemoteDocumentFetcherOptions["allowUrl"]): Promise<void> {
  if (allowUrl !== undefined && (await allowUrl(new URL(url.href))) !== true) {
    throw new RemoteFetchError("denied", input, `Fetching ${input} is not allowed by the operator's policy.`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Creates the fetcher of Client ID Metadata Documents used to resolve https
 * client ids: the URL must be in canonical form with a path, the document a
 * JSON object whose `client_id` is exactly that URL; the operator hooks
 * `allowUrl` and `allowDocument` may refuse either. Results and failures are
 * cached as described in {@link RemoteCacheOptions}; each call returns its
 * own copy of the document.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createClientMetadataFetcher } from "oauth-client-registry/remote";
 *
 * const fetchClientMetadata = createClientMetadataFetcher({
 *   allowUrl: (url) => url.hostname.endsWith(".example.com"),
 * });
 * const registry = createOAuthClientRegistry(store, {
 *   clientIdMetadataDocuments: { accountId: "cimd", fetchClientMetadata },
 * });
 * ```
 */
export function createClientMetadataFetcher(options: ClientMetadataFetcherOptions = {}): ClientMetadataFetcher {
  const fetcher = options.fetcher ?? createDefaultFetcher();
  const maxBytes = positiveInteger("maxBytes", options.maxBytes ?? 5 * 1024);
  const cache = createRemoteCache<Record<string, unknown>>(
    async (input) => {
      const url = new URL(input);
      await checkAllowedUrl(url, input, options.allowUrl);
      const result = await fetcher.fetchJson(input, { maxBytes, accept: "application/json" });
      const document = result.value;
      if (!isObject(document)) {
        throw new RemoteFetchError("invalid_document", input, `${input} is not a JSON object.`, { status: result.status });
      }
      if (document.client_id !== input) {
        throw new RemoteFetchError(
          "invalid_document",
          input,
          `The client_id of the document at ${input} is not that URL; a metadata document must name its own URL.`,
          { status: result.status },
        );
      }
      if (options.allowDocument !== undefined && (await options.allowDocument(new URL(input), structuredClone(document))) !== true) {
        throw new RemoteFetchError("denied", input, `The document at ${input} is not allowed by the operator's policy.`, {
          status: result.status,
        });
      }
      return { value: document, maxAgeSeconds: result.maxAgeSeconds, noStore: result.noStore };
    },
    options,
    structuredClone,
  );
  return (input) => {
    let url: URL;
    try {
      url = parseRemoteUrl(input);
    } catch (error) {
      return Promise.reject(error);
    }
    // The client id is compared byte for byte with the document's client_id, so only the canonical spelling is
    // fetched: no dot segments, default port, upper-case host or numeric IPv4 tricks.
    if (url.href !== input) {
      return Promise.reject(new RemoteFetchError("invalid_url", input, `Refused URL: ${input} is not in canonical form (${url.href}).`));
    }
    if (url.pathname === "/") {
      return Promise.reject(new RemoteFetchError("invalid_url", input, `Refused URL: a client id URL needs a path.`));
    }
    return cache.get(input);
  };
}

/** The 16 KiB default cap of key sets, larger than documents because RSA keys are long. */
export const DEFAULT_KEY_SET_MAX_BYTES = 16 * 1024;

/**
 * Creates the fetcher of remote key sets (`jwks_uri`) for `private_key_jwt`,
 * with the same SSRF-safe fetching, hooks and cache as
 * {@link createClientMetadataFetcher}. The set must be an object with a
 * `keys` array of public keys (each an object with a string `kty`, not
 * "oct", without private members). `refresh` refetches for an unknown `kid`,
 * at most once per `minTtlSeconds` per URL.
 *
 * @example
 * ```ts
 * import { createRemoteKeySetFetcher } from "oauth-client-registry/remote";
 *
 * declare const kid: string; // of the assertion's header
 * const keySets = createRemoteKeySetFetcher();
 * let keys = await keySets("https://app.example/jwks.json");
 * if (!keys.keys.some((k) => k.kid === kid)) keys = await keySets.refresh("https://app.example/jwks.json");
 * ```
 */
export function createRemoteKeySetFetcher(options: RemoteKeySetFetcherOptions = {}): RemoteKeySetFetcher {
  const fetcher = options.fetcher ?? createDefaultFetcher();
  const maxBytes = positiveInteger("maxBytes", options.maxBytes ?? DEFAULT_KEY_SET_MAX_BYTES);
  const cache = createRemoteCache<JSONWebKeySet>(
    async (input) => {
      await checkAllowedUrl(new URL(input), input, options.allowUrl);
      const result = await fetcher.fetchJson(input, { maxBytes, accept: "application/jwk-set+json, application/json" });
      const set = result.value;
      const problem = publicKeySetProblem(set);
      if (problem !== null) {
        throw new RemoteFetchError("invalid_document", input, `The key set at ${input} ${problem}.`, { status: result.status });
      }
      return { value: set as unknown as JSONWebKeySet, maxAgeSeconds: result.maxAgeSeconds, noStore: result.noStore };
    },
    options,
    structuredClone,
  );
  const canonical = (input: string): string => parseRemoteUrl(input).href;
  // Async, so that a refused URL (a synchronous throw of canonical) becomes a rejection.
  const get = async (input: string): Promise<JSONWebKeySet> => cache.get(canonical(input));
  const refresh = async (input: string): Promise<JSONWebKeySet> => cache.refresh(canonical(input));
  return Object.assign(get, { refresh });
}
