// Frozen: checkout keys (generated pairs whose public half is an ssh_keys row), per-host SSH keys,
// users' Heroku keys and users' grants. Private halves and the Heroku key are sealed (envelope
// encryption) before they reach these tables.
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';
  const id = pg ? 'serial' : 'integer';

  await db.schema
    .createTable('checkout_keys')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('ssh_key_id', 'integer', (c) => c.notNull().unique().references('ssh_keys.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint_md5', 'varchar(64)', (c) => c.notNull())
    .addColumn('fingerprint_sha256', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('checkout_keys_project_idx').on('checkout_keys').columns(['project_id', 'id']).execute();
  await db.schema.createIndex('checkout_keys_user_idx').on('checkout_keys').column('user_id').execute();

  await db.schema
    .createTable('host_keys')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('hostname', 'varchar(253)', (c) => c.notNull())
    .addColumn('key_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint_md5', 'varchar(64)', (c) => c.notNull())
    .addColumn('fingerprint_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addUniqueConstraint('host_keys_unique', ['project_id', 'hostname', 'fingerprint_sha256'])
    .execute();

  await db.schema
    .createTable('heroku_keys')
    .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('last4', 'varchar(4)', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('grants')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('scope', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('grants_pk', ['user_id', 'scope'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['grants', 'heroku_keys', 'host_keys', 'checkout_keys']) await db.schema.dropTable(table).execute();
}
