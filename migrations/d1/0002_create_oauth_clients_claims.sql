-- oauth-client-registry: the claims table on Cloudflare D1, the same as the
-- SQLite store's: single-use keys (the jti of client assertions) and
-- rate-limit windows shared by every Worker on the database. One row per
-- live key; an owner's budget is counted on (scope, owner, expires_at),
-- expired rows are found on expires_at and deleted a few at a time.
CREATE TABLE oauth_clients_claims (
  scope TEXT NOT NULL,
  claim_key TEXT NOT NULL,
  owner TEXT,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, claim_key)
) STRICT;

CREATE INDEX oauth_clients_claims_owner_idx ON oauth_clients_claims (scope, owner, expires_at);
CREATE INDEX oauth_clients_claims_expiry_idx ON oauth_clients_claims (expires_at);
