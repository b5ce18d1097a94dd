// Frozen: a runner service key may be limited to named projects of its account. The flag on the key
// says whether it is limited at all, so a key whose last listed project is deleted (the cascade
// removes the row) reads nothing rather than every project.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .alterTable('api_keys')
    .addColumn('limited_to_projects', pg ? 'boolean' : 'integer', (c) => c.notNull().defaultTo(pg ? sql`false` : 0))
    .execute();
  await db.schema
    .createTable('service_key_projects')
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('service_key_projects_pk', ['api_key_id', 'project_id'])
    .execute();
  await db.schema.createIndex('service_key_projects_project_idx').on('service_key_projects').column('project_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('service_key_projects').execute();
  await db.schema.alterTable('api_keys').dropColumn('limited_to_projects').execute();
}
