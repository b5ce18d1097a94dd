// Frozen: SSH keys can expire and can be proven to be held. `expires_at` (user and deploy keys in
// ssh_keys, per-host keys in host_keys) is null for a key that never expires; an expired key stays
// listed but no longer matches an SSH lookup. `verified_at` is set when the key's holder signed a
// Keysmith challenge with it (proof of possession).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ssh_keys').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('ssh_keys').addColumn('verified_at', 'text').execute();
  await db.schema.alterTable('host_keys').addColumn('expires_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('host_keys').dropColumn('expires_at').execute();
  await db.schema.alterTable('ssh_keys').dropColumn('verified_at').execute();
  await db.schema.alterTable('ssh_keys').dropColumn('expires_at').execute();
}
