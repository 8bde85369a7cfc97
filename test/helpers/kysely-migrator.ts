/**
 * Kysely's `Migrator` for tests, on kysely 0.28 (exported by "kysely") and
 * 0.29 (by "kysely/migration", a subpath 0.28 does not have), typed
 * structurally so that the tests compile against either.
 */
import * as kyselyModule from "kysely";
import type { Kysely } from "kysely";
import { oauthClientRegistryMigrations, type Migration, type MigrationResult } from "../../adapters/kysely.js";

export interface MigrationResultSet {
  readonly error?: unknown;
  readonly results?: MigrationResult[];
}
export interface Migrator {
  migrateToLatest(): Promise<MigrationResultSet>;
  migrateTo(targetMigrationName: string): Promise<MigrationResultSet>;
}
type MigratorClass = new (props: {
  db: Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider: { getMigrations(): Promise<Record<string, Migration>> };
  migrationTableName?: string;
  migrationLockTableName?: string;
}) => Migrator;

const fromRoot = (kyselyModule as unknown as { Migrator?: MigratorClass }).Migrator;
const subpath = "kysely/migration";
export const Migrator: MigratorClass =
  typeof fromRoot === "function" ? fromRoot : ((await import(subpath)) as { Migrator: MigratorClass }).Migrator;

/** Name of the migration that creates the version-1 (column per field) table. */
export const VERSION_1 = "oauth_client_registry_0001_create_clients";

/**
 * A Migrator over this library's migrations with the bookkeeping tables
 * `migrateToLatest` uses, so that tests can stop at a given version and the
 * library then carries on from there.
 */
export function registryMigrator(db: Kysely<unknown>, tablePrefix: string): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => oauthClientRegistryMigrations({ tablePrefix }) },
    migrationTableName: `${tablePrefix}oauth_clients_migrations`,
    migrationLockTableName: `${tablePrefix}oauth_clients_migrations_lock`,
  });
}
