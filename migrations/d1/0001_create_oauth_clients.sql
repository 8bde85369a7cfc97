-- oauth-client-registry: the clients table on Cloudflare D1.
-- The same layout as the SQLite store's (schema version 2): the keys the
-- database compares (id, account, list order, compare-and-swap version) as
-- columns, every other field of the record in one JSON document.
-- Apply with `wrangler d1 migrations apply` (migrations_dir pointing here)
-- or with migrateD1() from oauth-client-registry/d1; both record it in
-- the d1_migrations table, so either may run after the other.
CREATE TABLE oauth_clients (
  client_id TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL
) STRICT;

-- list() pages through an account in (created_at, client_id) order.
CREATE INDEX oauth_clients_list_idx ON oauth_clients (account_id, created_at, client_id);
