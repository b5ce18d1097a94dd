// Frozen: each account's SSH user CA keys (an active one, and the previous one while it is still
// trusted; private halves sealed like checkout keys') and every certificate issued under them. A
// certificate row is never deleted while its account exists (revocation sets `revoked_at`), so a
// serial, once given out, is never given out again.
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';
  const id = pg ? 'serial' : 'integer';

  await db.schema
    .createTable('ssh_ca_keys')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addUniqueConstraint('ssh_ca_keys_state_unique', ['account_id', 'state'])
    .execute();

  await db.schema
    .createTable('ssh_certificates')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('serial', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('project_id', 'integer', (c) => c.references('projects.id').onDelete('set null'))
    .addColumn('service_key_id', 'integer')
    .addColumn('requested_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('principals', 'text', (c) => c.notNull())
    .addColumn('key_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('key_fingerprint_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('ca_fingerprint_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('valid_after', time, (c) => c.notNull())
    .addColumn('valid_before', time, (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('revoked_at', time)
    .addUniqueConstraint('ssh_certificates_serial_unique', ['account_id', 'serial'])
    .execute();
  await db.schema.createIndex('ssh_certificates_user_idx').on('ssh_certificates').columns(['user_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ssh_certificates').execute();
  await db.schema.dropTable('ssh_ca_keys').execute();
}
