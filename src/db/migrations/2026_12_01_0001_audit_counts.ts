// Frozen: an audit row can stand for several identical events. Refused authentications are counted
// per (reason, scheme, address, login tried) over a short window: `count` is how many, `occurred_at`
// the first and `last_occurred_at` the last of them. Every other row is one event (count 1).
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';
  await db.schema
    .alterTable('audit_events')
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('audit_events').addColumn('last_occurred_at', time).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_events').dropColumn('last_occurred_at').execute();
  await db.schema.alterTable('audit_events').dropColumn('count').execute();
}
