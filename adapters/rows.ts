/**
 * The row shape shared by the SQL adapters: client fields as columns,
 * arrays and the verification object as JSON text. One encoder and one
 * decoder, so every SQL backend stores a record the same way.
 */
import type { StoredClient } from "../src/store.js";

/**
 * One row of the clients table, as stored. Use it to type your own
 * `Kysely<DB>` if you query the table yourself.
 *
 * @example
 * interface DB { oauth_clients: OAuthClientsTable }
 * const names = await db.selectFrom("oauth_clients").select("client_name").execute();
 */
export interface OAuthClientsTable {
  client_id: string;
  account_id: string;
  visibility: string;
  client_name: string;
  /** JSON array. */
  grant_types: string;
  /** JSON array. */
  response_types: string;
  /** JSON array. */
  redirect_uris: string;
  /** JSON array. */
  scopes: string;
  /** JSON array. */
  optional_scopes: string;
  token_endpoint_auth_method: string;
  /** JSON array. */
  allowed_cors_origins: string;
  /** JSON array. */
  post_logout_redirect_uris: string;
  client_uri: string | null;
  logo_uri: string | null;
  policy_uri: string | null;
  tos_uri: string | null;
  /** JSON object `{ status, text }` or null. */
  client_uri_verification: string | null;
  secret_hash: string | null;
  rotated_secret_hash: string | null;
  rotated_at: string | null;
  created_at: string;
  updated_at: string;
  promoted_at: string | null;
  version: number;
}

/** Every column of the clients table, in record order. */
export const CLIENT_COLUMNS = [
  "client_id",
  "account_id",
  "visibility",
  "client_name",
  "grant_types",
  "response_types",
  "redirect_uris",
  "scopes",
  "optional_scopes",
  "token_endpoint_auth_method",
  "allowed_cors_origins",
  "post_logout_redirect_uris",
  "client_uri",
  "logo_uri",
  "policy_uri",
  "tos_uri",
  "client_uri_verification",
  "secret_hash",
  "rotated_secret_hash",
  "rotated_at",
  "created_at",
  "updated_at",
  "promoted_at",
  "version",
] as const satisfies readonly (keyof OAuthClientsTable)[];

/**
 * Encodes a record as a row.
 *
 * @example
 * const row = toClientRow(record); // row.redirect_uris === '["https://app.example.com/cb"]'
 */
export function toClientRow(record: StoredClient): OAuthClientsTable {
  return {
    client_id: record.client_id,
    account_id: record.account_id,
    visibility: record.visibility,
    client_name: record.client_name,
    grant_types: JSON.stringify(record.grant_types),
    response_types: JSON.stringify(record.response_types),
    redirect_uris: JSON.stringify(record.redirect_uris),
    scopes: JSON.stringify(record.scopes),
    optional_scopes: JSON.stringify(record.optional_scopes),
    token_endpoint_auth_method: record.token_endpoint_auth_method,
    allowed_cors_origins: JSON.stringify(record.allowed_cors_origins),
    post_logout_redirect_uris: JSON.stringify(record.post_logout_redirect_uris),
    client_uri: record.client_uri,
    logo_uri: record.logo_uri,
    policy_uri: record.policy_uri,
    tos_uri: record.tos_uri,
    client_uri_verification:
      record.client_uri_verification === null ? null : JSON.stringify(record.client_uri_verification),
    secret_hash: record.secret_hash,
    rotated_secret_hash: record.rotated_secret_hash,
    rotated_at: record.rotated_at,
    created_at: record.created_at,
    updated_at: record.updated_at,
    promoted_at: record.promoted_at,
    version: record.version,
  };
}

/**
 * Decodes a row into a record. `version` may come back as a number, a bigint
 * or a string, depending on the driver.
 *
 * @example
 * const record = fromClientRow(row);
 */
export function fromClientRow(row: Omit<OAuthClientsTable, "version"> & { version: number | bigint | string }): StoredClient {
  const json = <T>(text: string) => JSON.parse(text) as T;
  return {
    account_id: row.account_id,
    client_id: row.client_id,
    visibility: row.visibility as StoredClient["visibility"],
    client_name: row.client_name,
    grant_types: json(row.grant_types),
    response_types: json(row.response_types),
    redirect_uris: json(row.redirect_uris),
    scopes: json(row.scopes),
    optional_scopes: json(row.optional_scopes),
    token_endpoint_auth_method: row.token_endpoint_auth_method as StoredClient["token_endpoint_auth_method"],
    allowed_cors_origins: json(row.allowed_cors_origins),
    post_logout_redirect_uris: json(row.post_logout_redirect_uris),
    client_uri: row.client_uri,
    logo_uri: row.logo_uri,
    policy_uri: row.policy_uri,
    tos_uri: row.tos_uri,
    client_uri_verification: row.client_uri_verification === null ? null : json(row.client_uri_verification),
    secret_hash: row.secret_hash,
    rotated_secret_hash: row.rotated_secret_hash,
    rotated_at: row.rotated_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    promoted_at: row.promoted_at,
    // Some drivers hand back integers as strings or bigints.
    version: Number(row.version),
  };
}
