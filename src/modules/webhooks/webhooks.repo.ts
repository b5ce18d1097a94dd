import { sql, type Insertable, type Selectable } from 'kysely';
import type { Executor, WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.ts';

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export async function insertWebhook(db: Executor, row: Insertable<WebhooksTable>): Promise<number> {
  const { id } = await db.insertInto('webhooks').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

export const listWebhooks = (db: Executor, accountId: number) => db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

export const findWebhook = (db: Executor, accountId: number, id: number) => db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();

export async function deleteWebhook(db: Executor, accountId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('webhooks').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function insertDeliveries(db: Executor, rows: Insertable<WebhookDeliveriesTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

export const listDeliveries = (db: Executor, webhookId: number, limit: number) =>
  db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();

export const findDelivery = (db: Executor, webhookId: number, id: string) =>
  db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('id', '=', id).executeTakeFirst();

export const attemptsOf = (db: Executor, deliveryIds: string[]) =>
  deliveryIds.length === 0 ? Promise.resolve([]) : db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('id').execute();

/** Pending deliveries whose next attempt is due, oldest first, with their webhook's URL and sealed secret. */
export const dueDeliveries = (db: Executor, now: string, limit: number) =>
  db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select(['d.id', 'd.event', 'd.payload', 'd.attempts', 'd.next_attempt_at', 'w.id as webhook_id', 'w.account_id', 'w.url', 'w.secret_sealed'])
    .where('d.state', '=', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .orderBy('d.next_attempt_at')
    .limit(limit)
    .execute();

/** Takes a due delivery for one attempt (compare-and-swap on its due time): only one node wins it. */
export async function claimDelivery(db: Executor, id: string, seenDueAt: string, leaseUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: leaseUntil })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where('next_attempt_at', '=', seenDueAt)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordAttempt(
  db: Executor,
  delivery: { id: string; attempts: number },
  attempt: { attempted_at: string; status_code: number | null; error: string | null; duration_ms: number },
  outcome: { state: DeliveryRow['state']; next_attempt_at: string | null; delivered_at: string | null },
): Promise<void> {
  await db
    .insertInto('webhook_attempts')
    .values({ delivery_id: delivery.id, ...attempt })
    .execute();
  await db
    .updateTable('webhook_deliveries')
    .set({ attempts: delivery.attempts + 1, last_status_code: attempt.status_code, ...outcome })
    .where('id', '=', delivery.id)
    .execute();
}

export const listAllSealed = (db: Executor) => db.selectFrom('webhooks').select(['id', 'account_id', 'secret_sealed']).execute();

export const findSealed = (db: Executor, id: number) => db.selectFrom('webhooks').select('secret_sealed').where('id', '=', id).executeTakeFirst();

export async function replaceSealed(db: Executor, id: number, before: string, after: string): Promise<boolean> {
  const result = await db.updateTable('webhooks').set({ secret_sealed: after }).where('id', '=', id).where('secret_sealed', '=', before).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function distinctSealedPrefixes(db: Executor, length: number): Promise<string[]> {
  const rows = await db
    .selectFrom('webhooks')
    .select(sql<string>`substr(secret_sealed, 1, ${sql.lit(length)})`.as('prefix'))
    .distinct()
    .execute();
  return rows.map((r) => r.prefix);
}
