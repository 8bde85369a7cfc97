/**
 * Dynamic client registration at the registry level (RFC 7591) and the
 * management of a registration with its registration access token
 * (RFC 7592): create with source "dcr", read, full-replacement update that
 * rotates the token, delete. The HTTP protocol around it (metadata names,
 * error codes, policy) lives in `registration/`.
 */
import type { ValidationIssue } from "../model/errors.js";
import { changedFields, fillStoredDefaults, usesSecret, type CreateClientInput, type RegistryLimits } from "../fields.js";
import { isPlausibleClientId } from "../model/ids.js";
import { mergeFields, newRecord, replacementFields } from "./records.js";
import type { RegisteredClient, RegisterOptions, RegistrationRead } from "./api.js";
import type { RegistryContext } from "./context.js";
import { parseClientFields } from "../rules/field-rules.js";
import { selfRegisteredResponseTypeIssues } from "../rules/metadata.js";
import { generateSecret } from "../model/secrets.js";
import { storeCall } from "../model/storage-faults.js";
import type { StoredClient } from "../model/store.js";

/** Largest `secretExpiresAt` accepted: the year 9999, in Unix seconds. */
const MAX_EXPIRY_SECONDS = 253_402_300_799;

/** The registration operations of one registry. */
export interface RegistrationCore {
  registerClient(accountId: string, input: CreateClientInput, options?: RegisterOptions): Promise<RegisteredClient>;
  readRegistration(clientId: string, token: string): Promise<RegistrationRead | null>;
  updateRegistration(clientId: string, token: string, input: CreateClientInput, options?: RegisterOptions): Promise<RegisteredClient | null>;
  deleteRegistration(clientId: string, token: string): Promise<boolean>;
}

/**
 * Creates the registration operations of a registry.
 *
 * @example
 * ```ts
 * import type { CreateClientInput } from "oauth-client-registry";
 *
 * declare const context: Parameters<typeof createRegistrationCore>[0];
 * declare const input: CreateClientInput;
 * const registration = createRegistrationCore(context);
 * const { client, registration_access_token } = await registration.registerClient("acct", input);
 * ```
 */
export function createRegistrationCore(context: RegistryContext): RegistrationCore {
  const { store, secrets, rules, limits } = context;
  const decoys = createDecoyRecords(() => secrets.hashGenerated(generateSecret()), limits);

  /** A new registration access token and its stored hash (the secret hasher: the token has ≥ 256 random bits). */
  async function newToken(): Promise<[string, string]> {
    const token = generateSecret();
    return [token, await secrets.hashGenerated(token)];
  }

  /**
   * The stored client this token belongs to, or null. Always one store read
   * (unless the id cannot exist), then the same work whether the client
   * exists or not: an unknown client is replaced by a decoy record, whose
   * token hash is checked exactly as a real one, so that probing client ids
   * with RFC 7592 requests tells an unknown client from a wrong token by
   * nothing but noise (client ids are public, tokens are not; this keeps the
   * endpoint from becoming an existence oracle all the same).
   */
  async function findByToken(clientId: unknown, token: unknown): Promise<StoredClient | null> {
    // Made once, before the first read, so that no later request waits for it.
    if (!decoys.built()) await decoys.build();
    // From the store's answer on, a found record and the decoy settle the
    // same promises. Settling a promise with an object looks up its `then`
    // (with null it does not), and the store's own read settled one with the
    // found record: a miss settles one with the decoy in its place. Without
    // these two steps a found client stayed measurably slower.
    let real = false;
    const record = isPlausibleClientId(clientId)
      ? await storeCall(async () => {
          const found = await store.getById(clientId);
          if (found === null) {
            const decoy = decoys.record();
            void Promise.resolve(decoy);
            return decoy;
          }
          real = true;
          decoys.observe(found);
          return found;
        })
      : decoys.record();
    const hash = record.registration_access_token_hash;
    const matched = await secrets.match(token, hash, null);
    // The likely outcome (a wrong token) is decided first, so both kinds of miss leave by the same branch.
    return matched === "current" && hash !== null && real ? record : null;
  }

  function expiryIssue(options: RegisterOptions | undefined, issues: ValidationIssue[]): number | undefined {
    const value = options?.secretExpiresAt;
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < 0 || value > MAX_EXPIRY_SECONDS) {
      issues.push({ path: "/client_secret_expires_at", message: "secretExpiresAt must be 0 (never) or Unix seconds (an integer)" });
      return undefined;
    }
    return value;
  }

  return {
    async registerClient(accountId, input, options) {
      context.assertAccountId(accountId);
      const { fields, issues } = parseClientFields(input, "create", limits);
      issues.push(...selfRegisteredResponseTypeIssues(fields.response_types));
      const expiresAt = expiryIssue(options, issues);
      const at = context.timestamp();
      const draft = newRecord(accountId, context.newClientId(), fields, at);
      draft.source = "dcr";
      const record = await rules.apply(draft, null, fields, issues);
      let secret: string | undefined;
      if (usesSecret(record.token_endpoint_auth_method)) {
        secret = context.newSecret();
        record.secret_hash = await secrets.hashGenerated(secret);
        record.client_secret_expires_at = expiresAt ?? 0;
      }
      const [token, tokenHash] = await newToken();
      record.registration_access_token_hash = tokenHash;
      const stored = await context.insertWithFreshId(record);
      context.emit({ type: "client.created", account_id: accountId, client_id: stored.client_id, at, source: "dcr" });
      const registered: RegisteredClient = { client: context.toWire(stored), account_id: accountId, registration_access_token: token };
      if (secret !== undefined) registered.client_secret = secret;
      return registered;
    },

    async readRegistration(clientId, token) {
      const record = await findByToken(clientId, token);
      return record ? { client: context.toWire(record), account_id: record.account_id } : null;
    },

    async updateRegistration(clientId, token, input, options) {
      const found = await findByToken(clientId, token);
      if (!found) return null;
      const { fields, issues } = parseClientFields(input, "create", limits);
      issues.push(...selfRegisteredResponseTypeIssues(fields.response_types));
      const expiresAt = expiryIssue(options, issues);
      const replacement = replacementFields(fields);
      const [newTokenValue, newTokenHash] = await newToken();
      let revoked = false;
      const { before, after } = await context.mutate(found.account_id, found.client_id, async (current) => {
        // The token was rotated (or the registration replaced) since it was checked.
        if (current.registration_access_token_hash !== found.registration_access_token_hash) {
          revoked = true;
          return current;
        }
        const merged = mergeFields(current, replacement, context.timestamp());
        if (!context.rotatedSecretActive(current)) {
          merged.rotated_secret_hash = null;
          merged.rotated_at = null;
          merged.rotated_secret_expires_at = null;
          merged.rotated_secret_last_used_at = null;
        }
        const next = await rules.apply(merged, current, replacement, issues);
        if (expiresAt !== undefined && usesSecret(next.token_endpoint_auth_method)) next.client_secret_expires_at = expiresAt;
        next.registration_access_token_hash = newTokenHash;
        return next;
      });
      if (revoked) return null;
      context.emit({
        type: "client.updated",
        account_id: after.account_id,
        client_id: after.client_id,
        at: after.updated_at,
        changed_fields: changedFields(before, after),
        via: "registration",
      });
      return { client: context.toWire(after), account_id: after.account_id, registration_access_token: newTokenValue };
    },

    async deleteRegistration(clientId, token) {
      for (let attempt = 0; attempt < context.maxWriteAttempts; attempt++) {
        const record = await findByToken(clientId, token);
        if (!record) return false;
        // Conditional on the version whose token was checked: a token rotated meanwhile no longer deletes.
        if (await storeCall(() => store.delete(record.account_id, record.client_id, record.version))) {
          context.emit({
            type: "client.deleted",
            account_id: record.account_id,
            client_id: record.client_id,
            at: context.timestamp(),
            reason: "registration",
          });
          return true;
        }
      }
      return false;
    },
  };
}

/**
 * Decoy records: what an RFC 7592 request on an unknown client checks its
 * token against. The decoy has the stored shape of a registered client and
 * a token hash of the registry's own kind (made from a random token that is
 * then forgotten, so nothing matches it).
 *
 * A store that decodes a row on every read (the SQL adapters: JSON text to a
 * fresh record) makes a found client cost a decoding that a miss does not;
 * its misses therefore decode the decoy from its stored text too. Such a
 * store is recognised by what it returns: a fresh, mutable object, while the
 * memory store hands out its frozen records as they are.
 */
interface DecoyRecords {
  /** Whether the decoy exists yet. */
  built(): boolean;
  /** Makes the decoy (once; a failure is not kept, the next call tries again). */
  build(): Promise<void>;
  /** The decoy, decoded afresh when the store's reads decode; only after {@link build}. */
  record(): StoredClient;
  /** Notes how the store returned a found record. */
  observe(found: StoredClient): void;
}

/** Fixed facts of the decoy: an id no generator makes (not hex), an account nobody uses, the epoch. */
const DECOY_CLIENT_ID = "decoy-registration-client-000000";
const DECOY_ACCOUNT_ID = "decoy";
const DECOY_TIMESTAMP = "1970-01-01T00:00:00.000Z";

function createDecoyRecords(newHash: () => Promise<string>, limits: Readonly<RegistryLimits>): DecoyRecords {
  let readsDecode = false;
  let observed = false;

  async function make(): Promise<{ record: StoredClient; text: string }> {
    // The metadata of a typical self-registered client, so that its text has a typical length.
    const { fields } = parseClientFields(
      {
        client_name: "Registered application",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: ["https://app.example.com/oauth/callback"],
        scopes: [],
        token_endpoint_auth_method: "client_secret_basic",
      },
      "create",
      limits,
    );
    const record = newRecord(DECOY_ACCOUNT_ID, DECOY_CLIENT_ID, fields, DECOY_TIMESTAMP);
    record.source = "dcr";
    record.secret_hash = await newHash();
    record.registration_access_token_hash = await newHash();
    const { client_id: _id, account_id: _account, created_at: _created, version: _version, ...document } = record;
    const text = JSON.stringify(document);
    // Decoded from its text like a stored row (flat strings, not the concatenations that built them).
    return { record: Object.freeze(decode(text)), text };
  }

  /** What the SQL adapters do with a row: parse the document, set the key columns, fill defaults. */
  function decode(text: string): StoredClient {
    const decoded = JSON.parse(text) as StoredClient;
    decoded.client_id = DECOY_CLIENT_ID;
    decoded.account_id = DECOY_ACCOUNT_ID;
    decoded.created_at = DECOY_TIMESTAMP;
    decoded.version = 1;
    return fillStoredDefaults(decoded);
  }

  let decoy: { record: StoredClient; text: string } | undefined;
  let building: Promise<unknown> | undefined;

  return {
    built: () => decoy !== undefined,
    async build() {
      await (building ??= make().then(
        (value) => {
          decoy = value;
        },
        (error: unknown) => {
          building = undefined;
          throw error;
        },
      ));
    },
    record() {
      if (decoy === undefined) throw new Error("the registration decoy is used before it was built");
      return readsDecode ? decode(decoy.text) : decoy.record;
    },
    observe(found) {
      // Decided on the first found record: asking on every read would itself make a found client cost more.
      if (observed) return;
      observed = true;
      readsDecode = !Object.isFrozen(found);
    },
  };
}
