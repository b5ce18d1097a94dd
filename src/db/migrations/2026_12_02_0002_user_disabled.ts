// Frozen: a site admin can disable a user without deleting anything. While `disabled_at` is set,
// every credential of the user (sessions, API keys, SSH keys, checkout keys, grants) stops working;
// clearing it brings them back.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('disabled_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
}
