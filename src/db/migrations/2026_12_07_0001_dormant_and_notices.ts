// Frozen: credentials can be disabled for going unused and enabled again by their owner, and the
// scheduler remembers which time-based notice it has given. `disabled_at` (api_keys, ssh_keys) is
// set while a key is disabled as dormant; `enabled_at` is when its owner last enabled it again, so
// the unused period counts from then. `credential_notices` holds one row per notice given (expiring
// at 30/7/1 days, expired, the dormant warning): its primary key is what makes a notice go out once,
// whichever node scans and however often. The expiry columns are indexed for the scan.
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';

  for (const table of ['api_keys', 'ssh_keys']) {
    await db.schema.alterTable(table).addColumn('disabled_at', time).execute();
    await db.schema.alterTable(table).addColumn('enabled_at', time).execute();
  }
  await db.schema.createIndex('api_keys_expires_idx').on('api_keys').column('expires_at').execute();
  await db.schema.createIndex('ssh_keys_expires_idx').on('ssh_keys').column('expires_at').execute();
  await db.schema.createIndex('host_keys_expires_idx').on('host_keys').column('expires_at').execute();

  await db.schema
    .createTable('credential_notices')
    .addColumn('credential_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('credential_id', 'integer', (c) => c.notNull())
    .addColumn('notice', 'varchar(32)', (c) => c.notNull())
    // What the notice was about: the expiry it announced, or the last activity a warning counted from.
    .addColumn('basis', 'varchar(40)', (c) => c.notNull())
    .addColumn('given_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_notices_pk', ['credential_type', 'credential_id', 'notice', 'basis'])
    .execute();
  await db.schema.createIndex('credential_notices_given_idx').on('credential_notices').column('given_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('credential_notices').execute();
  await db.schema.dropIndex('host_keys_expires_idx').execute();
  await db.schema.dropIndex('ssh_keys_expires_idx').execute();
  await db.schema.dropIndex('api_keys_expires_idx').execute();
  for (const table of ['ssh_keys', 'api_keys']) {
    await db.schema.alterTable(table).dropColumn('enabled_at').execute();
    await db.schema.alterTable(table).dropColumn('disabled_at').execute();
  }
}
