// Frozen: API key names are unique per owner (a user's own keys; an account's service keys), as the
// console lists keys by name. Older duplicates are renamed first, deterministically (the oldest keeps
// its name, the next becomes "name (2)", and so on), so this cannot fail on existing data.
import { sql, type Kysely } from 'kysely';

const NAME_LENGTH = 100;

async function renameDuplicates(db: Kysely<any>, kind: 'user' | 'service', ownerColumn: 'user_id' | 'account_id'): Promise<void> {
  const rows: Array<{ id: number; owner: number | null; name: string }> = await db
    .selectFrom('api_keys')
    .select(['id', `${ownerColumn} as owner`, 'name'])
    .where('kind', '=', kind)
    .orderBy('id')
    .execute();
  const taken = new Map<string, Set<string>>();
  for (const row of rows) {
    const names = taken.get(String(row.owner)) ?? new Set<string>();
    taken.set(String(row.owner), names);
    names.add(row.name);
  }
  const seen = new Map<string, Set<string>>();
  for (const row of rows) {
    const names = seen.get(String(row.owner)) ?? new Set<string>();
    seen.set(String(row.owner), names);
    if (!names.has(row.name)) {
      names.add(row.name);
      continue;
    }
    const all = taken.get(String(row.owner))!;
    let n = 2;
    let name: string;
    do {
      const suffix = ` (${n++})`;
      name = `${row.name.slice(0, NAME_LENGTH - suffix.length)}${suffix}`;
    } while (all.has(name));
    all.add(name);
    names.add(name);
    await db.updateTable('api_keys').set({ name }).where('id', '=', row.id).execute();
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await renameDuplicates(db, 'user', 'user_id');
  await renameDuplicates(db, 'service', 'account_id');
  await sql`create unique index api_keys_user_name_unique on api_keys (user_id, name) where kind = 'user'`.execute(db);
  await sql`create unique index api_keys_service_name_unique on api_keys (account_id, name) where kind = 'service'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_keys_service_name_unique').execute();
  await db.schema.dropIndex('api_keys_user_name_unique').execute();
}
