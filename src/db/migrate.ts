import { Migrator, PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import * as foundation from './migrations/2026_11_22_0001_foundation.ts';
import * as sshKeys from './migrations/2026_11_22_0002_ssh_keys.ts';
import * as checkoutKeys from './migrations/2026_11_22_0003_checkout_keys.ts';
import * as auditCounts from './migrations/2026_12_01_0001_audit_counts.ts';
import * as runnerProjects from './migrations/2026_12_01_0002_runner_projects.ts';
import * as keyNames from './migrations/2026_12_01_0003_key_names.ts';
import * as auditLogin from './migrations/2026_12_02_0001_audit_login.ts';
import * as userDisabled from './migrations/2026_12_02_0002_user_disabled.ts';
import * as passwordResets from './migrations/2026_12_02_0003_password_resets.ts';
import * as sshCa from './migrations/2026_12_02_0005_ssh_ca.ts';
import * as keyLifecycle from './migrations/2026_12_03_0001_key_lifecycle.ts';
import * as policies from './migrations/2026_12_03_0101_policies.ts';
import * as sharedLimits from './migrations/2026_12_03_0301_shared_limits.ts';
import * as apiKeyRotation from './migrations/2026_12_03_0401_api_key_rotation.ts';
import * as sshKeyChallenges from './migrations/2026_12_03_0402_ssh_key_challenges.ts';
import * as webhooks from './migrations/2026_12_04_0001_webhooks.ts';
import * as mailOutbox from './migrations/2026_12_04_0201_mail_outbox.ts';
import * as dormantAndNotices from './migrations/2026_12_07_0001_dormant_and_notices.ts';

// Listed by hand so the app needs no file-system scanning; names sort in the order they apply.
const migrations: Record<string, Migration> = {
  '2026_11_22_0001_foundation': foundation,
  '2026_11_22_0002_ssh_keys': sshKeys,
  '2026_11_22_0003_checkout_keys': checkoutKeys,
  '2026_12_01_0001_audit_counts': auditCounts,
  '2026_12_01_0002_runner_projects': runnerProjects,
  '2026_12_01_0003_key_names': keyNames,
  '2026_12_02_0001_audit_login': auditLogin,
  '2026_12_02_0002_user_disabled': userDisabled,
  '2026_12_02_0003_password_resets': passwordResets,
  '2026_12_02_0005_ssh_ca': sshCa,
  '2026_12_03_0001_key_lifecycle': keyLifecycle,
  '2026_12_03_0101_policies': policies,
  '2026_12_03_0301_shared_limits': sharedLimits,
  '2026_12_03_0401_api_key_rotation': apiKeyRotation,
  '2026_12_03_0402_ssh_key_challenges': sshKeyChallenges,
  '2026_12_04_0001_webhooks': webhooks,
  '2026_12_04_0201_mail_outbox': mailOutbox,
  '2026_12_07_0001_dormant_and_notices': dormantAndNotices,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export class MigrationError extends Error {}

/**
 * Applies every pending migration; returns the names it applied. On PostgreSQL, nodes started together
 * take turns on a session advisory lock (one per schema) held on one connection for the whole run, so
 * the first migrates and the others find nothing pending; the lock goes with the connection if the
 * process dies.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return migrateWith(db, undefined);
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(conn);
    const schema = rows[0]!.schema;
    const lock = `keysmith_migrate:${schema}`;
    await sql`select pg_advisory_lock(hashtext(${lock}))`.execute(conn);
    try {
      return await migrateWith(conn, schema);
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${lock}))`.execute(conn);
    }
  });
}

async function migrateWith(db: Kysely<any>, migrationTableSchema: string | undefined): Promise<string[]> {
  // On PostgreSQL, Kysely looks for its bookkeeping tables in every schema unless told which one;
  // pin it to the schema this connection works in, so another schema's tables are never mistaken for ours.
  const migrator = new Migrator({ db, provider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`Migration ${failed} failed: ${result.error instanceof Error ? result.error.message : JSON.stringify(result.error)}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The names of the migrations not yet applied to this database (all of them on an empty one). Read
 * straight from Kysely's bookkeeping table in this connection's schema, not through Kysely's
 * Migrator: that introspects every column of every table in every schema of the database, which is
 * slow on a shared database and fails when another schema is dropped at the same moment.
 */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const onPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const table = onPostgres
    ? (await sql<{ found: string | null }>`select to_regclass('kysely_migration')::text as found`.execute(db)).rows[0]?.found
    : (await sql<{ found: string }>`select name as found from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(db)).rows[0]?.found;
  const applied = new Set(table ? (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((r) => r.name) : []);
  return Object.keys(migrations).filter((name) => !applied.has(name));
}
