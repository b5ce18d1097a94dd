// Accounts' webhooks (README: Notifications → Webhooks). A change that has something to tell writes
// its delivery rows with enqueue() inside its own transaction (the outbox), and calls kick() after
// commit; deliverDue() — a job, and whatever kick() starts — sends what is due. Each attempt first
// claims its row (compare-and-swap on the due time, with a lease longer than the 10 s time-out), so
// across nodes each attempt is made by one node; a node that dies mid-send leaves the row to be tried
// again when the lease ends (receivers dedupe on the payload's `id`).
import { randomUUID } from 'node:crypto';
import { masterKeyIdsIn, open, seal, SEALED_KEY_PREFIX_LENGTH, type KeyRing } from '../../crypto/envelope.ts';
import { randomSecret } from '../../crypto/random.ts';
import type { Db, Executor } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import type { AccessService } from '../access/access.service.ts';
import type { Actor, RequestContext } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { ALL_EVENTS, isWebhookEvent, PING_EVENT, webhookEvents, type AccountEvent, type EventActor, type WebhookPayload } from './webhook-events.ts';
import { signatureOf, type WebhookSender } from './webhook-sender.ts';
import { checkWebhookUrl } from './webhook-url.ts';
import type { SealedValues } from '../master-key/sealed-values.ts';
import * as repo from './webhooks.repo.ts';

/** Seconds to wait after each failed attempt: the first retry within a minute, the 8th attempt about 35 h after the first. */
export const RETRY_DELAYS_SECONDS = [30, 120, 480, 1_920, 7_680, 30_720, 86_400] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/** How long a claimed attempt is this node's alone (longer than the 10 s time-out). */
const LEASE_MS = 60_000;
const DUE_BATCH = 20;
const DELIVERIES_LISTED = 100;
const MAX_WEBHOOKS_PER_ACCOUNT = 50;
const DESCRIPTION_MAX = 200;

export const SECRET_PREFIX = 'whsec_';
const secretAad = (accountId: number) => `webhook_secret:${accountId}`;

/** The webhooks' sealed signing secrets, for master-key rotation. */
export function webhookSealedValues(db: Db): SealedValues {
  return {
    listSealed: async () => (await repo.listAllSealed(db)).map((r) => ({ id: r.id, sealed: r.secret_sealed, aad: secretAad(r.account_id) })),
    findSealed: async (id) => (await repo.findSealed(db, id))?.secret_sealed,
    replaceSealed: (id, before, after) => repo.replaceSealed(db, id, before, after),
    masterKeyIds: async () => masterKeyIdsIn(await repo.distinctSealedPrefixes(db, SEALED_KEY_PREFIX_LENGTH)),
  };
}

export interface WebhookInput {
  url: string;
  events: string[];
  description?: string;
}

interface Deps {
  db: Db;
  ring: KeyRing;
  access: Pick<AccessService, 'resolve' | 'authorize'>;
  /** The accounts module's names, for the payload's `account`. */
  accounts: { nameOf(exec: Executor, accountId: number): Promise<string | undefined> };
  audit: AuditService;
  sender: WebhookSender;
  clock: { now(): Date };
  logger: { warn(obj: object, msg: string): void };
  /** Counts each attempt's outcome (GET /metrics). */
  onAttempt?: (outcome: 'delivered' | 'failed' | 'gave_up') => void;
}

export const eventActor = (actor: Actor): EventActor => (actor.type === 'user' ? { type: 'user', login: actor.login } : { type: 'service_key', id: actor.keyId, name: actor.keyName });

const invalid = (field: string, message: string) => new AppError('validation_failed', message, undefined, { field });

function checkEvents(events: string[]): string[] {
  if (events.length === 0) throw invalid('events', `Name at least one event to send, or "${ALL_EVENTS}" for all: ${webhookEvents.join(', ')}.`);
  const unknown = events.filter((e) => e !== ALL_EVENTS && !isWebhookEvent(e));
  if (unknown.length > 0) throw invalid('events', `There is no event ${JSON.stringify(unknown[0]!.slice(0, 64))}; choose from ${webhookEvents.join(', ')}, or "${ALL_EVENTS}" for all.`);
  return [...new Set(events)];
}

export function createWebhookService({ db, ring, access, accounts, audit, sender, clock, logger, onAttempt }: Deps) {
  const subscribed = (row: repo.WebhookRow, event: string) => {
    const events = JSON.parse(row.events) as string[];
    return event === PING_EVENT || events.includes(ALL_EVENTS) || events.includes(event);
  };

  const view = (row: repo.WebhookRow) => ({
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    created_by: row.created_by,
    created_at: row.created_at,
  });

  async function webhookOf(ctx: RequestContext, account: string, id: number) {
    const acc = await access.resolve(ctx.actor, { from: 'path', name: account });
    access.authorize(ctx.actor, acc, 'webhook.manage');
    const row = await repo.findWebhook(db, acc.accountId, id);
    if (!row) throw notFound(`Webhook ${id} of ${acc.accountName}`);
    return { acc, row };
  }

  const deliveryRow = (webhookId: number, payload: WebhookPayload, now: string) => ({
    id: randomUUID(),
    webhook_id: webhookId,
    event: payload.event,
    payload: JSON.stringify(payload),
    state: 'pending' as const,
    attempts: 0,
    next_attempt_at: now,
    last_status_code: null,
    created_at: now,
    delivered_at: null,
  });

  let running: Promise<number> | undefined;
  let again = false;
  /** Something was queued since the last kick (its transaction has committed once the request is answered). */
  let queued = false;

  /** One pass over what is due: claims and sends each delivery, records the attempt. Returns how many were attempted. */
  async function deliverPass(): Promise<number> {
    let attempted = 0;
    for (;;) {
      const now = clock.now();
      const due = await repo.dueDeliveries(db, now.toISOString(), DUE_BATCH);
      const claimed = [];
      for (const d of due) {
        if (await repo.claimDelivery(db, d.id, d.next_attempt_at!, new Date(now.getTime() + LEASE_MS).toISOString())) claimed.push(d);
      }
      await Promise.all(
        claimed.map(async (d) => {
          const secret = open(ring, d.secret_sealed, secretAad(d.account_id)).toString('utf8');
          const result = await sender.send(d.url, { 'x-keysmith-event': d.event, 'x-keysmith-delivery': d.id, 'x-keysmith-signature-256': signatureOf(secret, d.payload) }, d.payload);
          const at = clock.now();
          const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
          const attempts = d.attempts + 1;
          const outcome = ok
            ? { state: 'delivered' as const, next_attempt_at: null, delivered_at: at.toISOString() }
            : attempts >= MAX_ATTEMPTS
              ? { state: 'failed' as const, next_attempt_at: null, delivered_at: null }
              : { state: 'pending' as const, next_attempt_at: new Date(at.getTime() + RETRY_DELAYS_SECONDS[attempts - 1]! * 1000).toISOString(), delivered_at: null };
          await repo.recordAttempt(
            db,
            d,
            { attempted_at: new Date(at.getTime() - result.durationMs).toISOString(), status_code: result.statusCode, error: result.error, duration_ms: result.durationMs },
            outcome,
          );
          onAttempt?.(ok ? 'delivered' : outcome.state === 'failed' ? 'gave_up' : 'failed');
          if (!ok) logger.warn({ webhook: d.webhook_id, delivery: d.id, status: result.statusCode, error: result.error, attempts }, 'webhook delivery failed');
        }),
      );
      attempted += claimed.length;
      if (due.length < DUE_BATCH) return attempted;
    }
  }

  /** Sends what is due; while a pass runs, a call asks for one more pass after it. */
  function deliverDue(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await deliverPass();
        } while (again);
        return total;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const kick = (): void => {
    deliverDue().catch((err: unknown) => logger.warn({ err }, 'webhook delivery pass failed'));
  };

  return {
    async create(ctx: RequestContext, account: string, input: WebhookInput) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name: account });
      access.authorize(ctx.actor, acc, 'webhook.manage');
      const url = checkWebhookUrl(input.url);
      const events = checkEvents(input.events);
      const description = (input.description ?? '').trim();
      if (description.length > DESCRIPTION_MAX) throw invalid('description', `The description is ${description.length} characters long; keep it to ${DESCRIPTION_MAX}.`);
      const secret = `${SECRET_PREFIX}${randomSecret()}`;
      const at = clock.now().toISOString();
      const id = await db.transaction().execute(async (trx) => {
        const existing = await repo.listWebhooks(trx, acc.accountId);
        if (existing.length >= MAX_WEBHOOKS_PER_ACCOUNT) {
          throw new AppError('conflict', `${acc.accountName} already has ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks, the most an account may have; delete one first.`);
        }
        const created = await repo.insertWebhook(trx, {
          account_id: acc.accountId,
          url,
          description,
          events: JSON.stringify(events),
          secret_sealed: seal(ring, Buffer.from(secret, 'utf8'), secretAad(acc.accountId)),
          created_by: ctx.actor.type === 'user' ? ctx.actor.login : `service key ${ctx.actor.keyName}`,
          created_at: at,
        });
        await audit.record(trx, ctx, { action: 'webhook.create', accountId: acc.accountId, target: { type: 'webhook', id: created, label: url }, details: { events: events.join(',') } });
        return created;
      });
      const row = (await repo.findWebhook(db, acc.accountId, id))!;
      return { ...view(row), secret };
    },

    async list(ctx: RequestContext, account: string) {
      const acc = await access.resolve(ctx.actor, { from: 'path', name: account });
      access.authorize(ctx.actor, acc, 'webhook.manage');
      return (await repo.listWebhooks(db, acc.accountId)).map(view);
    },

    async remove(ctx: RequestContext, account: string, id: number): Promise<void> {
      const { acc, row } = await webhookOf(ctx, account, id);
      await db.transaction().execute(async (trx) => {
        if (!(await repo.deleteWebhook(trx, acc.accountId, id))) throw notFound(`Webhook ${id} of ${acc.accountName}`);
        await audit.record(trx, ctx, { action: 'webhook.delete', accountId: acc.accountId, target: { type: 'webhook', id, label: row.url } });
      });
    },

    /** Queues a `ping` for this webhook alone and starts sending; answers the delivery as queued. */
    async ping(ctx: RequestContext, account: string, id: number) {
      const { acc, row } = await webhookOf(ctx, account, id);
      const now = clock.now().toISOString();
      const payload: WebhookPayload = { id: randomUUID(), event: PING_EVENT, occurred_at: now, account: acc.accountName, actor: eventActor(ctx.actor), target: null, data: { webhook_id: row.id } };
      const delivery = deliveryRow(row.id, payload, now);
      await repo.insertDeliveries(db, [delivery]);
      kick();
      return { id: delivery.id, event: PING_EVENT, state: delivery.state };
    },

    async deliveries(ctx: RequestContext, account: string, id: number) {
      const { row } = await webhookOf(ctx, account, id);
      const deliveries = await repo.listDeliveries(db, row.id, DELIVERIES_LISTED);
      const attempts = await repo.attemptsOf(
        db,
        deliveries.map((d) => d.id),
      );
      return deliveries.map((d) => ({
        id: d.id,
        event: d.event,
        event_id: (JSON.parse(d.payload) as WebhookPayload).id,
        state: d.state,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
        next_attempt_at: d.state === 'pending' ? d.next_attempt_at : null,
        last_status_code: d.last_status_code,
        attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({ attempted_at: a.attempted_at, status_code: a.status_code, error: a.error, duration_ms: a.duration_ms })),
      }));
    },

    /** Sends a delivery's body again as a new delivery (same event id, new delivery id), whatever became of the first. */
    async redeliver(ctx: RequestContext, account: string, id: number, deliveryId: string) {
      const { acc, row } = await webhookOf(ctx, account, id);
      const original = await repo.findDelivery(db, row.id, deliveryId);
      if (!original) throw notFound(`Delivery ${deliveryId} of webhook ${id}`);
      const now = clock.now().toISOString();
      const copy = { ...deliveryRow(row.id, JSON.parse(original.payload) as WebhookPayload, now), payload: original.payload, event: original.event };
      await db.transaction().execute(async (trx) => {
        await repo.insertDeliveries(trx, [copy]);
        await audit.record(trx, ctx, {
          action: 'webhook.redeliver',
          accountId: acc.accountId,
          target: { type: 'webhook', id, label: row.url },
          details: { delivery: deliveryId, redelivery: copy.id },
        });
      });
      kick();
      return { id: copy.id, event: copy.event, state: copy.state };
    },

    /**
     * The outbox: inside the transaction that makes the change, one delivery row per webhook of the
     * account subscribed to the event. The caller calls kick() after its commit.
     */
    async enqueue(trx: Executor, e: AccountEvent): Promise<number> {
      const hooks = (await repo.listWebhooks(trx, e.accountId)).filter((h) => subscribed(h, e.event));
      if (hooks.length === 0) return 0;
      const account = (await accounts.nameOf(trx, e.accountId)) ?? String(e.accountId);
      const now = clock.now().toISOString();
      const payload: WebhookPayload = { id: randomUUID(), event: e.event, occurred_at: now, account, actor: e.actor, target: e.target, data: e.data ?? {} };
      await repo.insertDeliveries(
        trx,
        hooks.map((h) => deliveryRow(h.id, payload, now)),
      );
      queued = true;
      return hooks.length;
    },

    /** After a commit that enqueued something: start sending now rather than at the next scheduled pass. */
    kick,

    /** After a request is answered (so its transaction is over): kick if it queued anything. */
    kickIfQueued(): void {
      if (!queued) return;
      queued = false;
      kick();
    },

    deliverDue,

    /** Waits for a pass under way, then closes the sender's connections. */
    async close(): Promise<void> {
      await running?.catch(() => undefined);
      await sender.close();
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
