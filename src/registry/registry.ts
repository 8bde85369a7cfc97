/**
 * createOAuthClientRegistry — the client-management operations over any
 * {@link ClientStore}: each loads, applies the rules, and writes with
 * compare-and-swap. The rules themselves live in their own modules.
 */
import { validateRegistryOptions } from "../model/options.js";
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from "../model/errors.js";
import { emitSafely, type RegistryEvent } from "../model/events.js";
import {
  changedFields,
  clientObject,
  DEFAULT_LIMITS,
  usesSecret,
  type CreatedOAuthClient,
  type OAuthClient,
  type RegistryLimits,
} from "../fields.js";
import { accountIdIssue, isPlausibleClientId, MAX_CLIENT_ID_LENGTH } from "../model/ids.js";
import { createLifecycle } from "./lifecycle.js";
import { mergeFields, newRecord } from "./records.js";
import { createRegistrationCore } from "./registration.js";
import type { RegistryContext } from "./context.js";
import { createAssertionAuthentication } from "./assertions.js";
import { createResolver } from "./resolve.js";
import { metadataToClientInput } from "../rules/metadata.js";
import { createClientRules } from "../rules/client.js";
import { parseClientFields } from "../rules/field-rules.js";
import { boundedJsonCopy, clientInputBounds } from "../rules/json-bounds.js";
import { DEFAULT_IDENTITY_SCOPES, toCatalog } from "../rules/scopes.js";
import { wellFormedProblem } from "../rules/text.js";
import { hostOf } from "../rules/uris.js";
import { createSecretChecks, isPresentableSecret, MAX_SECRET_LENGTH } from "./secret-checks.js";
import {
  createSecretHasher,
  defaultSecretHasher,
  generateClientId as defaultGenerateClientId,
  generateSecret as defaultGenerateSecret,
  generateVerificationToken as defaultGenerateVerificationToken,
} from "../model/secrets.js";
import { storeCall } from "../model/storage-faults.js";
import type { ClientStore, StoredClient } from "../model/store.js";
import { parseRfc3339 } from "../model/time.js";
import { platformResolveTxt } from "#platform/dns";
import { hasTxtRecord } from "./verification.js";
import { tagVersion, versionMatches } from "../model/versions.js";
import type {
  ImportClientInput,
  OAuthClientRegistry,
  OAuthClientRegistryOptions,
  WriteOptions,
} from "./api.js";

export type {
  AssertionAuthenticationResult,
  AuthenticateAssertionOptions,
  AuthenticationResult,
  ClientIdMetadataDocumentsOptions,
  ClientPage,
  ImportClientInput,
  ListOptions,
  OAuthClientRegistry,
  OAuthClientRegistryOptions,
  PurgeOptions,
  PurgeResult,
  RegisteredClient,
  RegisterOptions,
  RegistrationRead,
  ResolveOptions,
  RotateSecretOptions,
  VerifyClientUriOptions,
  WriteOptions,
} from "./api.js";

const DEFAULT_VERIFICATION_PREFIX = "oauth-client-registry-verification";
const IMPORTED_CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * Creates a registry over a store.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 *
 * const registry = createOAuthClientRegistry(createMemoryStore(), { scopeCatalog: ["zone.read"] });
 * const client = await registry.create("acct_1", {
 *   client_name: "Dashboard",
 *   grant_types: ["authorization_code", "refresh_token"],
 *   response_types: ["code"],
 *   redirect_uris: ["https://dash.example.com/callback"],
 *   scopes: ["zone.read"],
 *   token_endpoint_auth_method: "client_secret_basic",
 * });
 * await registry.authenticate(client.client_id, client.client_secret!); // { matched: "current", … }
 * ```
 */
export function createOAuthClientRegistry(
  store: ClientStore,
  options: OAuthClientRegistryOptions = {},
): OAuthClientRegistry {
  validateRegistryOptions(options);
  const limits: RegistryLimits = Object.freeze({ ...DEFAULT_LIMITS, ...definedOnly(options.limits ?? {}) });
  validateLimits(limits);
  const now = options.now ?? (() => new Date());
  const hasher = options.hasher ?? defaultSecretHasher;
  const importHasher = options.importHasher ?? createSecretHasher({ algorithm: "scrypt" });
  const resolveTxt = options.resolveTxt ?? platformResolveTxt;
  const verificationPrefix = options.verificationPrefix ?? DEFAULT_VERIFICATION_PREFIX;
  const secretPrefix = options.secretPrefix ?? "";
  const maxWriteAttempts = Math.max(1, Math.floor(options.maxWriteAttempts ?? 8));
  const newClientId = options.generateClientId ?? defaultGenerateClientId;
  const newSecret = options.generateSecret
    ? () => `${secretPrefix}${options.generateSecret!()}`
    : () => defaultGenerateSecret(secretPrefix);
  const newVerificationToken = options.generateVerificationToken ?? defaultGenerateVerificationToken;
  const scopeRules = { catalog: options.scopeCatalog, identityScopes: options.identityScopes ?? DEFAULT_IDENTITY_SCOPES };
  const rules = createClientRules({
    scopeRules,
    newVerificationText: () => `${verificationPrefix}=${newVerificationToken()}`,
  });
  const ttl = options.rotatedSecretTtlMs;
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
    throw new TypeError("rotatedSecretTtlMs must be a positive number of milliseconds");
  }

  const timestamp = () => now().toISOString();
  const emit = (event: RegistryEvent) => emitSafely(options.onEvent, event);

  const secrets = createSecretChecks({
    hasher,
    importHasher,
    slowHashConcurrency: options.slowHashConcurrency ?? 2,
    slowHashQueueLimit: options.slowHashQueueLimit ?? 64,
  });

  function rotatedSecretActive(record: StoredClient, nowMs?: number): boolean {
    if (record.rotated_secret_hash === null) return false;
    // A per-rotation grace period wins over the registry-wide TTL.
    if (record.rotated_secret_expires_at !== null) return (nowMs ?? now().getTime()) < Date.parse(record.rotated_secret_expires_at);
    if (ttl === undefined || record.rotated_at === null) return true;
    return (nowMs ?? now().getTime()) - Date.parse(record.rotated_at) < ttl;
  }

  /** The record without its rotated secret (and what belongs to it). */
  function withoutRotatedSecret(record: StoredClient): StoredClient {
    return { ...record, rotated_secret_hash: null, rotated_at: null, rotated_secret_expires_at: null, rotated_secret_last_used_at: null };
  }

  /** When an active rotated secret stops authenticating: its own grace period, else `rotatedSecretTtlMs`, else never (null). */
  function rotatedSecretEnd(record: StoredClient): string | null {
    if (record.rotated_secret_expires_at !== null) return record.rotated_secret_expires_at;
    if (ttl === undefined || record.rotated_at === null) return null;
    return new Date(Date.parse(record.rotated_at) + ttl).toISOString();
  }

  function toWire(record: StoredClient): OAuthClient {
    const active = rotatedSecretActive(record);
    // The stored end covers only per-call grace periods and outlives the secret it ends: show the effective one.
    const end = active ? rotatedSecretEnd(record) : null;
    const shown = end === record.rotated_secret_expires_at ? record : { ...record, rotated_secret_expires_at: end };
    return tagVersion(clientObject(shown, { has_rotated_secret: active }), record.version);
  }

  function assertAccountId(accountId: unknown): asserts accountId is string {
    const issue = accountIdIssue(accountId);
    if (issue) throw new ValidationError([issue]);
  }

  async function load(accountId: string, clientId: unknown): Promise<StoredClient> {
    assertAccountId(accountId);
    if (!isPlausibleClientId(clientId)) throw new NotFoundError();
    const record = await storeCall(() => store.get(accountId, clientId));
    if (!record) throw new NotFoundError();
    return record;
  }

  /**
   * Read-modify-write with compare-and-swap: `change` computes the next
   * record from the current one (or throws to refuse); a lost race re-reads
   * and re-applies, a bounded number of times.
   */
  async function mutate(
    accountId: string,
    clientId: string,
    change: (current: StoredClient) => Promise<StoredClient> | StoredClient,
    expectedVersion?: WriteOptions["expectedVersion"],
  ): Promise<{ before: StoredClient; after: StoredClient }> {
    for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
      // Random backoff after a lost race, so that writers colliding on one
      // client spread out instead of colliding again in lockstep.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));
      const before = await load(accountId, clientId);
      // A lost race re-reads: the caller's expectation is then checked against the winner.
      if (!versionMatches(before.version, expectedVersion)) throw new PreconditionFailedError();
      const after = await change(structuredClone(before));
      after.version = before.version + 1;
      if (await storeCall(() => store.update(after, before.version))) return { before, after };
    }
    throw new ConflictError(
      "concurrent_modification",
      "the client was changed concurrently too many times; retry the request",
    );
  }

  async function insertWithFreshId(record: StoredClient): Promise<StoredClient> {
    for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
      if (attempt > 0) record.client_id = newClientId();
      if (await storeCall(() => store.insert(record))) return record;
    }
    throw new ConflictError("client_id_taken", "could not allocate an unused client id; retry the request");
  }

  const context: RegistryContext = {
    store,
    limits,
    now,
    timestamp,
    emit,
    hasListener: () => options.onEvent !== undefined,
    secrets,
    rules,
    newClientId,
    newSecret,
    maxWriteAttempts,
    toWire,
    rotatedSecretActive,
    assertAccountId,
    mutate,
    insertWithFreshId,
  };
  const lifecycle = createLifecycle(context, { lastUsedWriteIntervalMs: options.lastUsedWriteIntervalMs });
  const registration = createRegistrationCore(context);
  const { resolveClient, resolveRecord } = createResolver(context, lifecycle, options.clientIdMetadataDocuments, metadataToClientInput);
  const authenticateAssertion = createAssertionAuthentication(context, lifecycle, resolveRecord, options.privateKeyJwt);

  const registry: OAuthClientRegistry = {
    limits,

    list: (accountId, listOptions = {}) => lifecycle.list(accountId, listOptions),

    async get(accountId, clientId) {
      return toWire(await load(accountId, clientId));
    },

    async create(accountId, input) {
      assertAccountId(accountId);
      const { fields, issues } = parseClientFields(input, "create", limits);
      const at = timestamp();
      const record = await rules.apply(newRecord(accountId, newClientId(), fields, at), null, fields, issues);
      let secret: string | undefined;
      if (usesSecret(record.token_endpoint_auth_method)) {
        secret = newSecret();
        record.secret_hash = await secrets.hashGenerated(secret);
      }
      const stored = await insertWithFreshId(record);
      emit({ type: "client.created", account_id: accountId, client_id: stored.client_id, at, source: "api" });
      const created: CreatedOAuthClient = toWire(stored);
      if (secret !== undefined) created.client_secret = secret;
      return created;
    },

    async update(accountId, clientId, patch, writeOptions = {}) {
      assertAccountId(accountId);
      const { fields, issues } = parseClientFields(patch, "update", limits);
      // Shape problems are reported together with the cross-field problems
      // found on the merged record (NotFound wins when the client is absent).
      const { before, after } = await mutate(accountId, clientId, async (current) => {
        let merged = mergeFields(current, fields, timestamp());
        // A rotated secret past its grace period is dropped on the next write.
        if (current.rotated_secret_hash !== null && !rotatedSecretActive(current)) merged = withoutRotatedSecret(merged);
        return rules.apply(merged, current, fields, issues);
      }, writeOptions.expectedVersion);
      const changed = changedFields(before, after);
      emit({ type: "client.updated", account_id: accountId, client_id: clientId, at: after.updated_at, changed_fields: changed });
      if (before.visibility === "private" && after.visibility === "public") {
        emit({ type: "client.promoted", account_id: accountId, client_id: clientId, at: after.updated_at });
      }
      return toWire(after);
    },

    async delete(accountId, clientId, writeOptions = {}) {
      assertAccountId(accountId);
      const expected = writeOptions.expectedVersion;
      if (expected === undefined) {
        // The store's delete is account-scoped, so it alone tells whether the client existed.
        if (!isPlausibleClientId(clientId)) throw new NotFoundError();
        if (!(await storeCall(() => store.delete(accountId, clientId)))) throw new NotFoundError();
      } else {
        const current = await load(accountId, clientId);
        if (!versionMatches(current.version, expected)) throw new PreconditionFailedError();
        if (!(await storeCall(() => store.delete(accountId, clientId, current.version)))) {
          // Changed or deleted since the read: say which.
          if (await storeCall(() => store.get(accountId, clientId))) throw new PreconditionFailedError();
          throw new NotFoundError();
        }
      }
      emit({ type: "client.deleted", account_id: accountId, client_id: clientId, at: timestamp() });
      return { id: clientId };
    },

    async rotateSecret(accountId, clientId, writeOptions = {}) {
      const grace = writeOptions.gracePeriodMs;
      if (grace !== undefined && !(Number.isFinite(grace) && grace > 0)) {
        throw new ValidationError([{ path: "/gracePeriodMs", message: "gracePeriodMs must be a positive number of milliseconds" }]);
      }
      const secret = newSecret();
      const secretHash = await secrets.hashGenerated(secret);
      const { after } = await mutate(accountId, clientId, (current) => {
        if (!usesSecret(current.token_endpoint_auth_method) || current.secret_hash === null) {
          const method = current.token_endpoint_auth_method;
          throw new ValidationError(
            [{ path: "/token_endpoint_auth_method", message: `a client without a secret (${method}) has no secret to rotate` }],
            `a client with token_endpoint_auth_method "${method}" has no secret to rotate`,
          );
        }
        if (rotatedSecretActive(current)) {
          throw new ConflictError(
            "rotated_secret_exists",
            "the client already has a rotated secret; delete the rotated secret first",
          );
        }
        const at = timestamp();
        return {
          ...current,
          rotated_secret_hash: current.secret_hash,
          secret_hash: secretHash,
          rotated_at: at,
          rotated_secret_expires_at: grace === undefined ? null : new Date(Date.parse(at) + grace).toISOString(),
          // The use times follow the secrets: the old current is now the rotated one.
          rotated_secret_last_used_at: current.secret_last_used_at,
          secret_last_used_at: null,
          // A new secret starts without the expiry a registration gave the old one.
          client_secret_expires_at: 0,
          updated_at: at,
        };
      }, writeOptions.expectedVersion);
      emit({ type: "client.secret_rotated", account_id: accountId, client_id: clientId, at: after.updated_at });
      return { client_secret: secret };
    },

    async deleteRotatedSecret(accountId, clientId, writeOptions = {}) {
      const { after } = await mutate(accountId, clientId, (current) => {
        if (!rotatedSecretActive(current)) throw new NotFoundError("the client has no rotated secret", "rotated_secret_not_found");
        return { ...withoutRotatedSecret(current), updated_at: timestamp() };
      }, writeOptions.expectedVersion);
      emit({ type: "client.rotated_secret_deleted", account_id: accountId, client_id: clientId, at: after.updated_at });
      return { id: clientId };
    },

    async authenticate(clientId, secret) {
      const wellFormed = isPlausibleClientId(clientId) && isPresentableSecret(secret);
      const record = wellFormed ? await storeCall(() => store.getById(clientId)) : null;
      const nowMs = now().getTime();
      const rotated = record && rotatedSecretActive(record, nowMs) ? record.rotated_secret_hash : null;
      const matched = await secrets.match(secret, record?.secret_hash ?? null, rotated);
      const expired = record !== null && record.client_secret_expires_at > 0 && record.client_secret_expires_at * 1000 <= nowMs;
      if (!record || record.secret_hash === null || matched === null || expired) {
        if (options.onEvent) {
          const reason = !record ? "unknown_client" : record.secret_hash === null ? "no_secret" : matched === null ? "invalid_secret" : "secret_expired";
          const id = typeof clientId === "string" ? clientId.slice(0, MAX_CLIENT_ID_LENGTH) : "";
          emit({ type: "client.authentication_failed", account_id: record?.account_id ?? null, client_id: id, at: new Date(nowMs).toISOString(), reason });
        }
        return null;
      }
      // The timestamp is built only when something uses it: most authentications write nothing.
      const used = await lifecycle.recordUse(record, matched, nowMs);
      if (options.onEvent) {
        const at = used.last_used_at !== record.last_used_at && used.last_used_at !== null ? used.last_used_at : new Date(nowMs).toISOString();
        emit({ type: "client.authenticated", account_id: record.account_id, client_id: record.client_id, at, matched });
      }
      return { client: toWire(used), account_id: record.account_id, matched };
    },

    async findClient(clientId) {
      if (!isPlausibleClientId(clientId)) return null;
      const record = await storeCall(() => store.getById(clientId));
      return record ? toWire(record) : null;
    },

    async verifyClientUri(accountId, clientId, verifyOptions = {}) {
      const current = await load(accountId, clientId);
      if (!versionMatches(current.version, verifyOptions.expectedVersion)) throw new PreconditionFailedError();
      if (current.client_uri === null || current.client_uri_verification === null) {
        throw new ValidationError([{ path: "/client_uri", message: "the client has no client_uri to verify" }]);
      }
      if (current.client_uri_verification.status === "verified") return toWire(current);
      const expected = current.client_uri_verification.text;
      const host = hostOf(current.client_uri);
      // Already in_progress (a background check that will look again): no write, so no new version.
      if (current.client_uri_verification.status !== "in_progress") {
        await mutate(accountId, clientId, (c) => {
          if (c.client_uri_verification?.text !== expected) return c;
          return { ...c, client_uri_verification: { status: "in_progress", text: expected } };
        }, verifyOptions.expectedVersion);
      }
      const found = await hasTxtRecord(resolveTxt, host, expected);
      // Another attempt follows: the client stays in_progress, and its updated_at (which bounds the retry window) stays too.
      if (!found && verifyOptions.final === false) return toWire(await load(accountId, clientId));
      const status = found ? "verified" : "failed";
      const { after } = await mutate(accountId, clientId, (c) => {
        // The client_uri changed while DNS was queried: that result is stale.
        if (c.client_uri_verification?.text !== expected || c.client_uri === null || hostOf(c.client_uri) !== host) return c;
        // A concurrent check (another process, the scheduler) found the record first: verified stays.
        if (c.client_uri_verification.status === "verified") return c;
        return { ...c, client_uri_verification: { status, text: expected }, updated_at: timestamp() };
      });
      emit({ type: "client.uri_verification_changed", account_id: accountId, client_id: clientId, at: after.updated_at, status });
      return toWire(after);
    },

    async importClient(accountId, input) {
      assertAccountId(accountId);
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new ValidationError([{ path: "", message: "must be a JSON object" }]);
      }
      // Bounded and copied before anything is read from it: a getter or proxy runs once, inside the check.
      const bounded = boundedJsonCopy(input, clientInputBounds(limits));
      if ("issue" in bounded) throw new ValidationError([bounded.issue]);
      const { client_id: clientId, client_secret: secret, created_at: createdAt, ...rest } = bounded.value as ImportClientInput;
      const { fields, issues } = parseClientFields(rest, "create", limits);
      if (typeof clientId !== "string" || !IMPORTED_CLIENT_ID.test(clientId)) {
        issues.push({ path: "/client_id", message: "client_id must be 1 to 128 URL-safe characters (A-Z a-z 0-9 . _ ~ -)" });
      }
      const method = fields.token_endpoint_auth_method;
      const isPublic = method !== undefined && !usesSecret(method);
      if (secret !== undefined && (typeof secret !== "string" || secret.length === 0 || secret.length > MAX_SECRET_LENGTH)) {
        issues.push({ path: "/client_secret", message: `client_secret must be a string of 1 to ${MAX_SECRET_LENGTH} characters` });
      } else if (secret !== undefined && wellFormedProblem(secret) !== null) {
        // Hashing would turn a lone surrogate into U+FFFD, so two different secrets would both match.
        issues.push({ path: "/client_secret", message: `client_secret ${wellFormedProblem(secret)}` });
      } else if (secret !== undefined && isPublic) {
        issues.push({ path: "/client_secret", message: `a client with token_endpoint_auth_method "${method}" has no secret` });
      } else if (secret === undefined && fields.token_endpoint_auth_method !== undefined && !isPublic) {
        issues.push({ path: "/client_secret", message: "client_secret is required for a confidential client" });
      }
      let created = timestamp();
      if (createdAt !== undefined) {
        const parsed = typeof createdAt === "string" ? parseRfc3339(createdAt) : Number.NaN;
        if (Number.isNaN(parsed)) issues.push({ path: "/created_at", message: "created_at must be an RFC 3339 date-time" });
        else created = new Date(parsed).toISOString();
      }
      const draft = newRecord(accountId, typeof clientId === "string" ? clientId : "", fields, created);
      draft.updated_at = timestamp();
      draft.source = "import";
      const record = await rules.apply(draft, null, fields, issues);
      if (typeof secret === "string") record.secret_hash = await secrets.hashImported(secret);
      if (!(await storeCall(() => store.insert(record)))) {
        throw new ConflictError("client_id_taken", `a client with id ${record.client_id} already exists`);
      }
      emit({ type: "client.imported", account_id: accountId, client_id: record.client_id, at: record.updated_at });
      return toWire(record);
    },

    async listScopes() {
      return toCatalog(scopeRules.catalog).list();
    },

    registerClient: registration.registerClient,
    readRegistration: registration.readRegistration,
    updateRegistration: registration.updateRegistration,
    deleteRegistration: registration.deleteRegistration,
    resolveClient,
    authenticateAssertion,
    purgeClients: (accountId, purgeOptions) => lifecycle.purge(accountId, purgeOptions),
  };
  return registry;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateLimits(limits: RegistryLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`limits.${name} must be a positive integer`);
  }
  if (limits.defaultPageSize > limits.maxPageSize) {
    throw new TypeError("limits.defaultPageSize must not exceed limits.maxPageSize");
  }
}

