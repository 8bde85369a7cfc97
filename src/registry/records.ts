/**
 * Stored records built from parsed input, with the field table's defaults:
 * a new record for create and import, and the update merge.
 */
import { CLIENT_FIELDS, CREATE_FIELDS, storedDefaults, type FieldSpec, type ParsedClientFields } from "../fields.js";
import type { StoredClient } from "../model/store.js";

/**
 * A new record (version 1) from parsed create fields; every field not sent
 * gets its table default, secrets none.
 *
 * @example
 * ```ts
 * declare const fields: Parameters<typeof newRecord>[2]; // parsed create fields (parseClientFields)
 * const draft = newRecord("acct", "0123456789abcdef0123456789abcdef", fields, new Date().toISOString());
 * ```
 */
export function newRecord(accountId: string, clientId: string, fields: ParsedClientFields, at: string): StoredClient {
  return {
    ...storedDefaults(),
    ...definedFields(fields),
    // Set by the rules (promotion), never from input.
    visibility: "private",
    account_id: accountId,
    client_id: clientId,
    created_at: at,
    updated_at: at,
    secret_hash: null,
    rotated_secret_hash: null,
    rotated_at: null,
    version: 1,
  } as StoredClient;
}

/**
 * The stored record with the fields of an update applied (those sent, apart
 * from visibility, which only the promotion rule changes).
 *
 * @example
 * ```ts
 * const merged = mergeFields(record, { client_name: "New" }, new Date().toISOString());
 * ```
 */
export function mergeFields(current: StoredClient, fields: ParsedClientFields, at: string): StoredClient {
  const { visibility: _visibility, ...rest } = definedFields(fields);
  return { ...current, ...rest, updated_at: at };
}

function definedFields(fields: ParsedClientFields): ParsedClientFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as ParsedClientFields;
}

/**
 * The fields of a full replacement (RFC 7592 update, a refreshed metadata
 * document): every settable field not sent goes back to its default, so
 * that {@link mergeFields} leaves nothing of the previous registration
 * behind. Visibility is left out: only promotion changes it.
 *
 * @example
 * ```ts
 * replacementFields({ client_name: "App" }).allowed_cors_origins; // []
 * ```
 */
export function replacementFields(fields: ParsedClientFields): ParsedClientFields {
  const out: Record<string, unknown> = { ...fields };
  for (const name of CREATE_FIELDS) {
    if (name === "visibility" || out[name] !== undefined) continue;
    const initial = (CLIENT_FIELDS as Record<string, FieldSpec>)[name]!.initial;
    if (initial) out[name] = initial();
  }
  return out as ParsedClientFields;
}
