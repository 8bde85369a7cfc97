/**
 * The registry's public API: its options, the shapes its operations take
 * and return, and the operations themselves. `registry.ts` implements them.
 */
import type { ClientSource, CreateClientInput, CreatedOAuthClient, OAuthClient, RegistryLimits, UpdateClientInput } from "../fields.js";
import type { RegistryEventListener } from "../model/events.js";
import type { ScopeCatalog } from "../rules/scopes.js";
import type { SecretHasher } from "../model/secrets.js";
import type { ResolveTxt } from "./verification.js";
import type { PrivateKeyJwtOptions } from "./assertions.js";

/** Options of {@link createOAuthClientRegistry}; every one has a sensible default. */
export interface OAuthClientRegistryOptions {
  /** API (dotted) scopes clients may request: a list or `{ has, list }`. Default: any well-formed dotted scope. */
  scopeCatalog?: ScopeCatalog;
  /** Simple (non-dotted) scopes allowed besides the protocol ones. Default `["profile", "email"]`. */
  identityScopes?: readonly string[];
  /** Clock. Default `() => new Date()`. */
  now?: () => Date;
  /** Hasher for generated secrets. Default SHA-256 (`sha256$…`). */
  hasher?: SecretHasher;
  /** Hasher for imported secrets of unknown entropy. Default scrypt (`scrypt$…`). */
  importHasher?: SecretHasher;
  /**
   * TXT resolver for client_uri verification. Default: `resolveTxt` of
   * node:dns on Node, Bun and Deno; DNS over HTTPS (`createDohResolveTxt()`,
   * Cloudflare's resolver) on Workers and in browsers.
   */
  resolveTxt?: ResolveTxt;
  /** Prefix of the verification text, `<prefix>=<token>`. Default `"oauth-client-registry-verification"`. */
  verificationPrefix?: string;
  /** Prefix prepended to generated secrets (e.g. `"ocs_"`, for secret scanners). Default none. */
  secretPrefix?: string;
  /** Size limits; unspecified ones keep their defaults. */
  limits?: Partial<RegistryLimits>;
  /** How many times a read-modify-write is tried (with a short random backoff) before answering Conflict. Default 8. */
  maxWriteAttempts?: number;
  /** When set, a rotated secret stops authenticating this long after the rotation. */
  rotatedSecretTtlMs?: number;
  /** Audit listener; never receives secrets; its failures never affect the operation. */
  onEvent?: RegistryEventListener;
  /** Id generator (32 lowercase hex characters by default). */
  generateClientId?: () => string;
  /** Secret generator (≥ 256 random bits, URL-safe, by default); `secretPrefix` is prepended. */
  generateSecret?: () => string;
  /** Verification token generator. */
  generateVerificationToken?: () => string;
  /**
   * Slow-hash work (imported secrets) that may run at once. Default 2: one
   * scrypt verification at the default cost takes ~128 MiB for a moment.
   */
  slowHashConcurrency?: number;
  /** Slow-hash work that may wait for a slot; past it, `OverloadedError` (503). Default 64. */
  slowHashQueueLimit?: number;
  /**
   * Last-use times (`last_used_at`, `secret_last_used_at`,
   * `rotated_secret_last_used_at`) are written at most once per client per
   * this many milliseconds, so authentication is not a write per request.
   * Default 3 600 000 (one hour). Such a write changes the client's version.
   */
  lastUsedWriteIntervalMs?: number;
  /**
   * Client ID Metadata Documents: when set, `resolveClient` treats an https
   * URL client id as the address of the client's metadata document, and
   * stores the client it describes in `accountId` (source "cimd"). Absent:
   * URL ids are plain ids (unknown unless stored).
   */
  clientIdMetadataDocuments?: ClientIdMetadataDocumentsOptions;
  /**
   * private_key_jwt (RFC 7523) for `authenticateAssertion`: verifier settings
   * (algorithms, clock tolerance, longest lifetime, a replay cache shared by
   * every process) and the `jwks_uri` fetcher. Defaults are safe as they are.
   */
  privateKeyJwt?: PrivateKeyJwtOptions;
}

/** Options of {@link OAuthClientRegistry.authenticateAssertion}. */
export interface AuthenticateAssertionOptions {
  /**
   * The audiences this server accepts, compared exactly with the assertion's
   * `aud`: its issuer identifier and/or its token endpoint URL.
   */
  audience: string | readonly string[];
  /** The request's `client_id` parameter, when sent; the assertion's iss and sub must equal it. */
  clientId?: string;
}

/** A successful private_key_jwt authentication. */
export interface AssertionAuthenticationResult {
  client: OAuthClient;
  account_id: string;
  method: "private_key_jwt";
}

/** Options of Client ID Metadata Document support. */
export interface ClientIdMetadataDocumentsOptions {
  /** The account that holds the clients of metadata documents. */
  accountId: string;
  /**
   * Fetches the JSON document at an https URL and returns it parsed. Use a
   * fetcher that refuses private addresses, redirects and large bodies, and
   * caches. Default: `createClientMetadataFetcher()` (https only, public
   * addresses only, no redirects, 5 KiB, 5 s, cached within bounds).
   * Whatever it returns is checked against the JSON bounds (at the default
   * limits: depth 32, 100,000 values, strings of 65,536 characters, about
   * 4 MiB of JSON) before any rule reads it; anything else (deeper, a
   * cycle, a function, a class instance, a getter that throws) is a
   * `ClientMetadataError`.
   */
  fetchClientMetadata?: (url: string) => Promise<unknown>;
  /**
   * Most clients from metadata documents stored in `accountId`. Past it, a
   * client id URL not stored yet is refused (`ClientMetadataError`) before
   * its document is fetched, and nothing is stored; stored clients keep
   * resolving. `Infinity`: no cap. Default 10,000. The count is read from
   * the store with a bounded scan at most once a minute (every 5 s while at
   * the cap) plus this process's own inserts, so processes sharing a store
   * may pass it by what the others insert within that minute.
   */
  maxClients?: number;
}

/** A registration (RFC 7591) or its update (RFC 7592). */
export interface RegisteredClient {
  client: OAuthClient;
  account_id: string;
  /** The client secret, shown once; absent for "none" and "private_key_jwt" clients, and on update. */
  client_secret?: string;
  /** The RFC 7592 registration access token, shown once; a new one on every update. */
  registration_access_token?: string;
}

/** Options of {@link OAuthClientRegistry.registerClient} and {@link OAuthClientRegistry.updateRegistration}. */
export interface RegisterOptions {
  /** Unix seconds when the generated secret stops authenticating; 0 or absent: never (on update: unchanged). */
  secretExpiresAt?: number;
}

/** Options of {@link OAuthClientRegistry.resolveClient}. */
export interface ResolveOptions {
  /** Record this as a use of the client (`last_used_at`, throttled like authentication). */
  recordUse?: boolean;
}

/** Options of {@link OAuthClientRegistry.rotateSecret}. */
export interface RotateSecretOptions extends WriteOptions {
  /**
   * How long the previous secret keeps authenticating, for this rotation
   * only (overrides `rotatedSecretTtlMs`). Absent: `rotatedSecretTtlMs`, or
   * until the rotated secret is deleted.
   */
  gracePeriodMs?: number;
}

/** Options of {@link OAuthClientRegistry.purgeClients}. */
export interface PurgeOptions {
  /** Delete clients whose last use (or, never used, creation) is older than this many milliseconds. */
  idleForMs: number;
  /**
   * Sources purged. Default `["dcr", "cimd"]`: self-registered clients and
   * clients of metadata documents (a purged metadata-document client comes
   * back by itself on its next use, from its document fetched again).
   */
  sources?: readonly ClientSource[];
  /** Most clients deleted in this call, 1..100. Default 100. */
  limit?: number;
  /** `next_cursor` of the previous call. */
  cursor?: string | null;
  /**
   * Delete nothing: `deleted` lists the clients that would go (at most
   * `limit`) and `clients` their client objects, for a preview.
   */
  dryRun?: boolean;
}

/** One purge batch; call again with `next_cursor` until it is null. */
export interface PurgeResult {
  /** Ids of the clients deleted (with `dryRun`: that would be deleted). */
  deleted: string[];
  next_cursor: string | null;
  /** With `dryRun` only: the client objects of `deleted`, in the same order. */
  clients?: OAuthClient[];
}

/** Options of {@link OAuthClientRegistry.list}. */
export interface ListOptions {
  /** Page size, 1..limits.maxPageSize. Default limits.defaultPageSize. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string | null;
  /** Only clients of this source (or these sources). */
  source?: ClientSource | readonly ClientSource[];
  /**
   * Only clients not used since this RFC 3339 time: last used before it, or
   * never used (add `neverUsed: false` to leave those out).
   */
  usedBefore?: string;
  /** true: only clients never used; false: only clients used at least once. */
  neverUsed?: boolean;
}

/** Options of the operations that change a client. */
export interface WriteOptions {
  /**
   * Write only if the client's stored version is this one (or one of these);
   * otherwise `PreconditionFailedError` (412) and nothing changes. Read the
   * version of a client object with `clientVersion(client)`.
   */
  expectedVersion?: number | readonly number[];
}

/** Options of {@link OAuthClientRegistry.verifyClientUri}. */
export interface VerifyClientUriOptions extends WriteOptions {
  /**
   * Whether a lookup that does not find the record ends the verification.
   * Default true: the status becomes `failed`. False, for a check that will
   * be tried again (the background scheduler): the status stays
   * `in_progress` and nothing more is written.
   */
  final?: boolean;
}

/** One page of clients; `next_cursor` is null on the last page. */
export interface ClientPage {
  clients: OAuthClient[];
  next_cursor: string | null;
}

/** A successful client authentication. */
export interface AuthenticationResult {
  client: OAuthClient;
  account_id: string;
  /** Which secret matched: the current one, or the rotated one still in its window. */
  matched: "current" | "rotated";
}

/** A client found by {@link OAuthClientRegistry.readRegistration}. */
export interface RegistrationRead {
  client: OAuthClient;
  account_id: string;
}

/** Body of {@link OAuthClientRegistry.importClient}: a create body plus what the old server knew. */
export type ImportClientInput = CreateClientInput & {
  /** Kept as is: 1–128 URL-safe characters (`A–Z a–z 0–9 . _ ~ -`). */
  client_id: string;
  /** The existing secret, hashed with the import hasher; required unless the method is "none". */
  client_secret?: string;
  /** Original creation time (RFC 3339); default now. */
  created_at?: string;
};

/** The registry: every operation of the OAuth Clients API plus token-endpoint helpers. */
export interface OAuthClientRegistry {
  /**
   * One page of an account's clients, oldest first; pass `next_cursor` back for the next page.
   * @example
   * ```ts
   * const { clients, next_cursor } = await registry.list("acct", { limit: 20 });
   * ```
   */
  list(accountId: string, options?: ListOptions): Promise<ClientPage>;
  /**
   * One client; NotFoundError if absent or owned by another account.
   * @example
   * ```ts
   * declare const clientId: string;
   * const client = await registry.get("acct", clientId);
   * ```
   */
  get(accountId: string, clientId: string): Promise<OAuthClient>;
  /**
   * Creates a client; confidential clients get `client_secret`, shown only here.
   * @example
   * ```ts
   * import type { CreateClientInput } from "oauth-client-registry";
   *
   * declare const input: CreateClientInput;
   * const { client_id, client_secret } = await registry.create("acct", input);
   * ```
   */
  create(accountId: string, input: CreateClientInput): Promise<CreatedOAuthClient>;
  /**
   * Changes only the fields sent; every rule runs on the merged record.
   * With `expectedVersion`, refuses (412) when someone changed the client since it was read.
   * @example
   * ```ts
   * import { clientVersion } from "oauth-client-registry";
   *
   * declare const clientId: string;
   * const client = await registry.get("acct", clientId);
   * await registry.update("acct", clientId, { client_name: "New name" }, { expectedVersion: clientVersion(client) });
   * ```
   */
  update(accountId: string, clientId: string, patch: UpdateClientInput, options?: WriteOptions): Promise<OAuthClient>;
  /**
   * Deletes a client and its secrets.
   * @example
   * ```ts
   * declare const clientId: string;
   * await registry.delete("acct", clientId); // { id: clientId }
   * ```
   */
  delete(accountId: string, clientId: string, options?: WriteOptions): Promise<{ id: string }>;
  /**
   * New current secret; the old one keeps working as the rotated secret until deleted,
   * until `rotatedSecretTtlMs`, or for `gracePeriodMs` of this call.
   * @example
   * ```ts
   * declare const clientId: string;
   * const { client_secret } = await registry.rotateSecret("acct", clientId, { gracePeriodMs: 86_400_000 });
   * ```
   */
  rotateSecret(accountId: string, clientId: string, options?: RotateSecretOptions): Promise<{ client_secret: string }>;
  /**
   * Ends the rotation window: the rotated secret stops authenticating.
   * @example
   * ```ts
   * declare const clientId: string;
   * await registry.deleteRotatedSecret("acct", clientId);
   * ```
   */
  deleteRotatedSecret(accountId: string, clientId: string, options?: WriteOptions): Promise<{ id: string }>;
  /**
   * Token-endpoint check of a client secret (current or rotated), constant-time; null when refused.
   * @example
   * ```ts
   * declare const clientId: string, clientSecret: string; // from the token request
   * const auth = await registry.authenticate(clientId, clientSecret);
   * if (auth === null) throw new Error("answer 401 invalid_client");
   * ```
   */
  authenticate(clientId: string, secret: string): Promise<AuthenticationResult | null>;
  /**
   * A client by id across accounts (authorize endpoint), or null.
   * @example
   * ```ts
   * const params = new URL(request.url).searchParams; // the authorization request
   * const client = await registry.findClient(params.get("client_id") ?? "");
   * ```
   */
  findClient(clientId: string): Promise<OAuthClient | null>;
  /**
   * Checks the client_uri host's DNS TXT records for the verification text.
   * @example
   * ```ts
   * declare const clientId: string;
   * const { client_uri_verification } = await registry.verifyClientUri("acct", clientId);
   * ```
   */
  verifyClientUri(accountId: string, clientId: string, options?: VerifyClientUriOptions): Promise<OAuthClient>;
  /**
   * Imports a client from another server, keeping its id, secret and creation time.
   * @example
   * ```ts
   * import type { CreateClientInput } from "oauth-client-registry";
   *
   * declare const input: CreateClientInput;
   * await registry.importClient("acct", { ...input, client_id: "legacy-app", client_secret: "s3cret" });
   * ```
   */
  importClient(accountId: string, input: ImportClientInput): Promise<OAuthClient>;
  /**
   * RFC 7591 registration: a client with source "dcr", a fresh id, a secret for
   * secret methods, and a registration access token (hashed at rest). `input`
   * uses this registry's field names (map RFC 7591 metadata first).
   * @example
   * ```ts
   * import type { CreateClientInput } from "oauth-client-registry";
   *
   * declare const input: CreateClientInput; // RFC 7591 metadata mapped by metadataToClientInput
   * const { client, client_secret, registration_access_token } = await registry.registerClient("acct", input);
   * ```
   */
  registerClient(accountId: string, input: CreateClientInput, options?: RegisterOptions): Promise<RegisteredClient>;
  /**
   * RFC 7592 read: the client whose registration access token this is, or null
   * (wrong token or unknown client, indistinguishable in answer and cost).
   * @example
   * ```ts
   * declare const clientId: string, bearerToken: string;
   * const found = await registry.readRegistration(clientId, bearerToken);
   * ```
   */
  readRegistration(clientId: string, registrationAccessToken: string): Promise<RegistrationRead | null>;
  /**
   * RFC 7592 update: replaces every settable field (absent ones go back to
   * their defaults), runs every rule, keeps the secret and rotates the
   * registration access token; null when the token or client is wrong.
   * @example
   * ```ts
   * import type { CreateClientInput } from "oauth-client-registry";
   *
   * declare const clientId: string, token: string;
   * declare const input: CreateClientInput;
   * const updated = await registry.updateRegistration(clientId, token, input);
   * ```
   */
  updateRegistration(
    clientId: string,
    registrationAccessToken: string,
    input: CreateClientInput,
    options?: RegisterOptions,
  ): Promise<RegisteredClient | null>;
  /**
   * RFC 7592 delete; false when the token or client is wrong.
   * @example
   * ```ts
   * declare const clientId: string, token: string;
   * if (!(await registry.deleteRegistration(clientId, token))) throw new Error("answer 401 invalid_token");
   * ```
   */
  deleteRegistration(clientId: string, registrationAccessToken: string): Promise<boolean>;
  /**
   * The client of any id: created, imported, registered, or (with
   * `clientIdMetadataDocuments`) an https URL whose metadata document is
   * fetched, checked and stored. null for an unknown id; ClientMetadataError
   * when a document is unusable.
   * @example
   * ```ts
   * const params = new URL(request.url).searchParams; // the authorization request
   * const client = await registry.resolveClient(params.get("client_id") ?? "", { recordUse: true });
   * ```
   */
  resolveClient(clientId: string, options?: ResolveOptions): Promise<OAuthClient | null>;
  /**
   * Token-endpoint check of a private_key_jwt client assertion (RFC 7523):
   * the client (any id kind) must use private_key_jwt; the assertion must be
   * signed by one of its keys (`jwks`, or `jwks_uri` fetched safely), name it
   * as iss and sub, carry an accepted audience, be short-lived and unused.
   * null when refused (a `client.authentication_failed` event says why).
   * @example
   * ```ts
   * const form = new URLSearchParams(await request.text()); // the token request's body
   * const auth = await registry.authenticateAssertion(form.get("client_assertion") ?? "", {
   *   audience: "https://auth.example.com/token",
   *   clientId: form.get("client_id") ?? undefined,
   * });
   * if (auth === null) throw new Error("answer 401 invalid_client");
   * ```
   */
  authenticateAssertion(assertion: string, options: AuthenticateAssertionOptions): Promise<AssertionAuthenticationResult | null>;
  /**
   * Deletes, in one bounded batch, clients of `sources` (default dcr and cimd) idle for
   * `idleForMs`; emits `client.deleted` with reason "purged".
   * @example
   * ```ts
   * let cursor: string | null = null;
   * do {
   *   ({ next_cursor: cursor } = await registry.purgeClients("acct", { idleForMs: 30 * 86_400_000, cursor }));
   * } while (cursor !== null);
   * ```
   */
  purgeClients(accountId: string, options: PurgeOptions): Promise<PurgeResult>;
  /**
   * The API scopes of the catalog (empty when any dotted scope is accepted).
   * @example
   * ```ts
   * const scopes = await registry.listScopes();
   * ```
   */
  listScopes(): Promise<string[]>;
  /** The effective limits (defaults merged with options). */
  readonly limits: Readonly<RegistryLimits>;
}
