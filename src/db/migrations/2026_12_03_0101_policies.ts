// Frozen: credential policies, one row for the instance (scope 'instance') and at most one per
// account (scope 'account:<id>'). Every limit column is null for "no limit"; ssh_key_types is a
// JSON array of allowed key types. The row is read by primary key, also inside the SSH lookup.
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';
  await db.schema
    .createTable('policies')
    .addColumn('scope', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('account_id', 'integer', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('api_key_max_lifetime_days', 'integer')
    .addColumn('ssh_key_max_lifetime_days', 'integer')
    .addColumn('ssh_key_types', 'text')
    .addColumn('rsa_min_bits', 'integer')
    .addColumn('certificate_max_ttl_seconds', 'integer')
    .addColumn('disable_unused_after_days', 'integer')
    .addColumn('require_verified_ssh_keys', 'boolean')
    .addColumn('updated_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('policies').execute();
}
