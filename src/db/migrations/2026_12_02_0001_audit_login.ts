// Frozen: a refused sign-in keeps the login it tried, lower-cased, in its own indexed column, so a
// user's security log can list the refusals of their login without reading the JSON details.
// Rows written before this migration are filled in from their details.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('login_tried', 'text').execute();
  await db.schema.createIndex('audit_events_login_tried').on('audit_events').columns(['login_tried', 'id']).execute();
  let after = 0;
  for (;;) {
    const rows: { id: number; details: string | null }[] = await db
      .selectFrom('audit_events')
      .select(['id', 'details'])
      .where('action', '=', 'auth.refused')
      .where('id', '>', after)
      .orderBy('id')
      .limit(500)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      after = Number(row.id);
      let login: unknown;
      try {
        login = row.details === null ? undefined : (JSON.parse(row.details) as { login?: unknown }).login;
      } catch {
        continue;
      }
      if (typeof login === 'string') await db.updateTable('audit_events').set({ login_tried: login.toLowerCase() }).where('id', '=', row.id).execute();
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_events_login_tried').execute();
  await db.schema.alterTable('audit_events').dropColumn('login_tried').execute();
}
