// Frozen: proof-of-possession challenges for users' SSH keys. One row per key (asking again replaces
// it); only the SHA-256 and SHA-512 of the challenge are kept, which is all an SSH signature's check
// needs. A challenge expires and is used once (used_at); deleting the key takes its challenge with it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ssh_key_challenges')
    .addColumn('ssh_key_id', 'integer', (c) => c.primaryKey().references('ssh_keys.id').onDelete('cascade'))
    .addColumn('challenge_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('challenge_sha512', 'char(128)', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ssh_key_challenges').execute();
}
