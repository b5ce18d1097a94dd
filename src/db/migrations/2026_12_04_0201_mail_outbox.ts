// Frozen: the email outbox (modules/mail). A message to a person about their own credential is
// rendered and written in the same transaction as the change it tells of, and sent after commit;
// what is sent is what the change said, even if the key is renamed or deleted before delivery. A
// row is claimed for one attempt with a lease (claimed_until), so across nodes one node sends it.
// Deleting the user takes their unsent mail with them.
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const time = pg ? 'timestamptz' : 'text';
  const id = pg ? 'serial' : 'integer';

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('to_address', 'varchar(254)', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('next_attempt_at', time)
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('claimed_until', time)
    .addColumn('sent_at', time)
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').column('next_attempt_at').execute();
  await db.schema.createIndex('mail_outbox_created_idx').on('mail_outbox').column('created_at').execute();
  await db.schema.createIndex('mail_outbox_user_idx').on('mail_outbox').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_outbox').execute();
}
