/**
 * Dynamic client registration at the registry level (RFC 7591) and the
 * management of a registration with its registration access token
 * (RFC 7592): create with source "dcr", read, full-replacement update that
 * rotates the token, delete. The HTTP protocol around it (metadata names,
 * error codes, policy) lives in `registration/`.
 */
import type { ValidationIssue } from "./errors.js";
import { changedFields, usesSecret, type CreateClientInput } from "./fields.js";
import { isPlausibleClientId } from "./ids.js";
import { mergeFields, newRecord, replacementFields } from "./records.js";
import type { RegisteredClient, RegisterOptions, RegistrationRead } from "./registry-api.js";
import type { RegistryContext } from "./registry-context.js";
import { parseClientFields } from "./rules/fields.js";
import { generateSecret } from "./secrets.js";
import { storeCall } from "./storage-faults.js";
import type { StoredClient } from "./store.js";

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
 * const registration = createRegistrationCore(context);
 * const { client, registration_access_token } = await registration.registerClient("acct", input);
 */
export function createRegistrationCore(context: RegistryContext): RegistrationCore {
  const { store, secrets, rules, limits } = context;

  /** A new registration access token and its stored hash (the secret hasher: the token has ≥ 256 random bits). */
  async function newToken(): Promise<[string, string]> {
    const token = generateSecret();
    return [token, await secrets.hashGenerated(token)];
  }

  /**
   * The stored client this token belongs to, or null. Always one store read
   * (unless the id cannot exist) and the same hash work: an unknown client
   * is checked against a decoy, so it answers like a wrong token, as fast.
   */
  async function findByToken(clientId: unknown, token: unknown): Promise<StoredClient | null> {
    const record = isPlausibleClientId(clientId) ? await storeCall(() => store.getById(clientId)) : null;
    const matched = await secrets.match(token, record?.registration_access_token_hash ?? null, null);
    return record !== null && record.registration_access_token_hash !== null && matched === "current" ? record : null;
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
