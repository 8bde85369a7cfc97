/**
 * Kysely's `Migrator` for tests, on kysely 0.28 (exported by "kysely") and
 * 0.29 (by "kysely/migration", a subpath 0.28 does not have), typed
 * structurally so that the tests compile against either.
 */
import * as kyselyModule from "kysely";
import type { Kysely } from "kysely";
import type { Migration, MigrationResult } from "../../adapters/kysely.js";

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
