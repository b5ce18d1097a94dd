// Frozen: API keys can be rotated with a grace period. A rotated key names its successor
// (`superseded_by`) and the moment it stops working (`revoked_after`, ISO 8601 text); the successor
// names the key it replaced (`rotated_from`). A name stays unique among the keys that have not been
// rotated, so the successor takes over its predecessor's name. `api_key_rotation_replays` keeps, for
// ten minutes, the sealed answer of a rotate sent with an Idempotency-Key, so a retry gets the same
// new key instead of another one.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('api_keys').addColumn('rotated_from', 'integer').execute();
  await db.schema.alterTable('api_keys').addColumn('superseded_by', 'integer').execute();
  await db.schema.alterTable('api_keys').addColumn('revoked_after', 'text').execute();
  await db.schema.dropIndex('api_keys_user_name_unique').execute();
  await db.schema.dropIndex('api_keys_service_name_unique').execute();
  await sql`create unique index api_keys_user_name_unique on api_keys (user_id, name) where kind = 'user' and revoked_after is null`.execute(db);
  await sql`create unique index api_keys_service_name_unique on api_keys (account_id, name) where kind = 'service' and revoked_after is null`.execute(db);

  await db.schema
    .createTable('api_key_rotation_replays')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    // Who sent it: user:<id> or service:<key id>; and the SHA-256 (hex) of the Idempotency-Key header.
    .addColumn('caller', 'varchar(64)', (c) => c.notNull())
    .addColumn('idempotency_key_hash', 'varchar(64)', (c) => c.notNull())
    // SHA-256 (hex) of the target and body, so the same header on a different request is refused.
    .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('old_key_id', 'integer', (c) => c.notNull())
    .addColumn('new_key_id', 'integer', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_key_rotation_replays_key_unique').on('api_key_rotation_replays').columns(['caller', 'idempotency_key_hash']).unique().execute();
  await db.schema.createIndex('api_key_rotation_replays_expires_idx').on('api_key_rotation_replays').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_key_rotation_replays').execute();
  await db.schema.dropIndex('api_keys_service_name_unique').execute();
  await db.schema.dropIndex('api_keys_user_name_unique').execute();
  await sql`create unique index api_keys_user_name_unique on api_keys (user_id, name) where kind = 'user'`.execute(db);
  await sql`create unique index api_keys_service_name_unique on api_keys (account_id, name) where kind = 'service'`.execute(db);
  await db.schema.alterTable('api_keys').dropColumn('revoked_after').execute();
  await db.schema.alterTable('api_keys').dropColumn('superseded_by').execute();
  await db.schema.alterTable('api_keys').dropColumn('rotated_from').execute();
}
