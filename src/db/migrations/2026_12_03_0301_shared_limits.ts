// Frozen: counts that several nodes share. `rate_limit_hits` holds one row per bucket, key and fixed
// window (the window's start in epoch milliseconds); `sign_in_failures` the sign-in throttle's
// failures per address, per login and per (login, address) pair, with the time of the last one.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_limit_hits')
    .addColumn('bucket', 'varchar(64)', (c) => c.notNull())
    .addColumn('key', 'varchar(512)', (c) => c.notNull())
    .addColumn('window_start_ms', 'bigint', (c) => c.notNull())
    .addColumn('window_end_ms', 'bigint', (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_hits_pk', ['bucket', 'key', 'window_start_ms'])
    .execute();
  await db.schema.createIndex('rate_limit_hits_end_idx').on('rate_limit_hits').column('window_end_ms').execute();
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('scope', 'varchar(16)', (c) => c.notNull())
    .addColumn('key', 'varchar(1100)', (c) => c.notNull())
    .addColumn('login', 'varchar(512)')
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sign_in_failures_pk', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('sign_in_failures_login_idx').on('sign_in_failures').column('login').execute();
  await db.schema.createIndex('sign_in_failures_last_idx').on('sign_in_failures').column('last_failure_ms').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_failures').execute();
  await db.schema.dropTable('rate_limit_hits').execute();
}
