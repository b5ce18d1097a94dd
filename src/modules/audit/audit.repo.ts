import type { Insertable } from 'kysely';
import type { AuditEventsTable, Executor } from '../../db/schema.ts';

export type NewAuditEvent = Insertable<AuditEventsTable>;

export async function insertEvents(db: Executor, events: NewAuditEvent[]): Promise<void> {
  if (events.length > 0) await db.insertInto('audit_events').values(events).execute();
}

export interface AuditFilter {
  accountId?: number;
  actor?: { type: 'user' | 'service_key'; id: number };
  /** With actor: also the refused sign-ins that tried this login (lower-cased), the user's security log. */
  orRefusedLogin?: string;
  action?: string;
}

function filtered(db: Executor, filter: AuditFilter) {
  let query = db.selectFrom('audit_events');
  if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
  const { actor, orRefusedLogin } = filter;
  if (actor) {
    query = query.where((eb) => {
      const own = eb.and([eb('actor_type', '=', actor.type), eb('actor_id', '=', actor.id)]);
      return orRefusedLogin === undefined ? own : eb.or([own, eb.and([eb('action', '=', 'auth.refused'), eb('login_tried', '=', orRefusedLogin)])]);
    });
  }
  if (filter.action) query = query.where('action', '=', filter.action);
  return query;
}

export async function listEvents(db: Executor, filter: AuditFilter, limit: number, offset: number) {
  const rows = await filtered(db, filter).selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
  // details is stored as JSON text; it leaves decoded.
  return rows.map((r) => ({ ...r, details: r.details === null ? null : (JSON.parse(r.details) as Record<string, string | number | boolean | null>) }));
}

export async function countEvents(db: Executor, filter: AuditFilter): Promise<number> {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
