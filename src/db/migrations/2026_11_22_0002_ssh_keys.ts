// Frozen: SSH public keys — users' own keys and projects' deploy keys, one table so that a key can
// exist only once in the whole instance (the key is how SSH identifies its owner).
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';
  const bool = pg ? 'boolean' : 'integer';

  await db.schema
    .createTable('ssh_keys')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.references('projects.id').onDelete('cascade'))
    .addColumn('title', 'varchar(255)', (c) => c.notNull())
    .addColumn('key_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint_sha256', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('fingerprint_md5', 'varchar(64)', (c) => c.notNull())
    .addColumn('bits', 'integer', (c) => c.notNull())
    .addColumn('read_only', bool, (c) => c.notNull().defaultTo(pg ? sql`true` : 1))
    .addColumn('added_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('last_used_at', time)
    .execute();
  await db.schema.createIndex('ssh_keys_user_idx').on('ssh_keys').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('ssh_keys_project_idx').on('ssh_keys').columns(['project_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ssh_keys').execute();
}
