// The audit trail. Changes are recorded inside the caller's transaction (record); refused
// authentications, which change nothing, are counted in memory per (reason, scheme, address, login
// tried) and written as one counted row per key and window, so a flood of bad credentials costs no
// database write per request and none of them is dropped.
import type { Logger } from 'pino';
import type { Db, Executor } from '../../db/schema.ts';
import type { RequestContext } from '../access/actor.ts';
import { requireUnrestricted, type AccessService, type AccountSelector } from '../access/access.service.ts';
import { AppError } from '../../errors.ts';
import type { AuditAction } from './audit.actions.ts';
import * as repo from './audit.repo.ts';

export interface AuditEntry {
  action: AuditAction;
  accountId?: number | null;
  target?: { type: string; id: string | number; label?: string | null };
  details?: Record<string, string | number | boolean | null>;
}

/** Changes made from the command line have no request; they are attributed to the CLI. */
export type AuditOrigin = RequestContext | { cli: true };

/** Keysmith's own background work (the credential scheduler), named by its job. */
export interface SchedulerOrigin {
  job: string;
}

/** Every origin an audit row can have. */
export type RecordedOrigin = AuditOrigin | AnonymousOrigin | SchedulerOrigin;

/** Someone who gave no credential (a leak report): only where the request came from. */
export interface AnonymousOrigin {
  anonymous: true;
  remoteAddr: string | null;
  userAgent: string | null;
}

export interface RefusedAuthentication {
  reason: string;
  scheme: string;
  remoteAddr: string | null;
  userAgent: string | null;
  /** The login a sign-in tried, or a Basic user name that is not the key itself; never a secret. */
  login?: string | null;
}

/**
 * Distinct (reason, scheme, address, login) keys counted in one window. More distinct keys than this
 * do not drop anything: the window is closed early and handed to the writer, and a new one begins.
 */
export const MAX_REFUSAL_KEYS = 10_000;
const clip = (text: string | null, max: number): string | null => (text === null ? null : text.slice(0, max));

interface RefusalCount {
  reason: string;
  scheme: string;
  remoteAddr: string | null;
  login: string | null;
  /** The user agent of the first refusal in the window (not part of the key). */
  userAgent: string | null;
  count: number;
  first: string;
  last: string;
}

export function createAuditService({
  db,
  clock,
  logger,
  onRefused,
  onRecorded,
}: {
  db: Db;
  clock: { now(): Date };
  logger: Logger;
  /** Told each refusal's reason code (metrics). */ onRefused?: (reason: string) => void;
  /** Told each recorded change inside its transaction (webhooks queue their deliveries there). */
  onRecorded?: (trx: Executor, origin: RecordedOrigin, entries: AuditEntry[]) => Promise<void>;
}) {
  /** The window being counted. */
  let counting = new Map<string, RefusalCount>();
  /** Counts of closed windows not yet written (more than one window's only while writes lag or fail). */
  const unwritten: RefusalCount[] = [];

  const toRow = (c: RefusalCount): repo.NewAuditEvent => ({
    occurred_at: c.first,
    last_occurred_at: c.count > 1 ? c.last : null,
    count: c.count,
    actor_type: 'anonymous',
    actor_id: null,
    actor_label: null,
    account_id: null,
    action: 'auth.refused',
    target_type: null,
    target_id: null,
    target_label: null,
    remote_addr: c.remoteAddr,
    user_agent: c.userAgent,
    details: JSON.stringify(c.login === null ? { reason: c.reason, scheme: c.scheme } : { reason: c.reason, scheme: c.scheme, login: c.login }),
    login_tried: c.login === null ? null : c.login.toLowerCase(),
  });

  function closeWindow(): void {
    if (counting.size === 0) return;
    for (const c of counting.values()) unwritten.push(c);
    counting = new Map();
  }

  // Writes run one after another, so flush() returns only once an early write still under way is done.
  let writes: Promise<void> = Promise.resolve();
  function scheduleWrite(): Promise<void> {
    const next = writes.catch(() => {}).then(writeUnwritten);
    writes = next;
    return next;
  }

  async function writeUnwritten(): Promise<void> {
    while (unwritten.length > 0) {
      // Taken out before the await, so overlapping flushes never write a count twice.
      const batch = unwritten.splice(0, 500);
      try {
        await repo.insertEvents(db, batch.map(toRow));
      } catch (err) {
        unwritten.unshift(...batch);
        throw err;
      }
    }
  }

  function actorFields(origin: RecordedOrigin): Pick<repo.NewAuditEvent, 'actor_type' | 'actor_id' | 'actor_label' | 'remote_addr' | 'user_agent'> {
    if ('cli' in origin) return { actor_type: 'system', actor_id: null, actor_label: 'keysmith cli', remote_addr: null, user_agent: null };
    if ('job' in origin) return { actor_type: 'system', actor_id: null, actor_label: `keysmith ${origin.job}`, remote_addr: null, user_agent: null };
    if ('anonymous' in origin) return { actor_type: 'anonymous', actor_id: null, actor_label: null, remote_addr: clip(origin.remoteAddr, 64), user_agent: clip(origin.userAgent, 512) };
    const { actor } = origin;
    return {
      actor_type: actor.type === 'user' ? 'user' : 'service_key',
      actor_id: actor.type === 'user' ? actor.userId : actor.keyId,
      actor_label: actor.type === 'user' ? actor.login : actor.keyName,
      remote_addr: clip(origin.remoteAddr, 64),
      user_agent: clip(origin.userAgent, 512),
    };
  }

  return {
    /** Writes one event in the same transaction as the change it describes. */
    async record(trx: Executor, origin: RecordedOrigin, entry: AuditEntry): Promise<void> {
      await this.recordMany(trx, origin, [entry]);
    },

    /** Writes several events of one origin in the caller's transaction, in batches. */
    async recordMany(trx: Executor, origin: RecordedOrigin, entries: AuditEntry[]): Promise<void> {
      const occurred_at = clock.now().toISOString();
      const actor = actorFields(origin);
      const rows = entries.map((entry) => ({
        occurred_at,
        ...actor,
        account_id: entry.accountId ?? null,
        action: entry.action,
        target_type: entry.target?.type ?? null,
        target_id: entry.target ? String(entry.target.id) : null,
        target_label: clip(entry.target?.label ?? null, 255),
        details: entry.details ? JSON.stringify(entry.details) : null,
      }));
      for (let i = 0; i < rows.length; i += 500) await repo.insertEvents(trx, rows.slice(i, i + 500));
      await onRecorded?.(trx, origin, entries);
    },

    /** Counts a refused authentication; flush() writes the counts. Nothing of the credential is kept. */
    refusedAuthentication(event: RefusedAuthentication): void {
      const reason = event.reason.slice(0, 64);
      onRefused?.(reason);
      const scheme = event.scheme.slice(0, 32);
      const remoteAddr = clip(event.remoteAddr, 64);
      const login = clip(event.login ?? null, 128);
      const key = JSON.stringify([reason, scheme, remoteAddr, login]);
      const now = clock.now().toISOString();
      const seen = counting.get(key);
      if (seen) {
        seen.count++;
        seen.last = now;
        return;
      }
      if (counting.size >= MAX_REFUSAL_KEYS) {
        // A flood of distinct keys: write this window now rather than grow it or drop anything.
        closeWindow();
        scheduleWrite().catch((err: unknown) => logger.error({ err }, 'writing refused authentications failed; they are kept for the next flush'));
      }
      counting.set(key, { reason, scheme, remoteAddr, login, userAgent: clip(event.userAgent, 512), count: 1, first: now, last: now });
    },

    /** Closes the current window and writes every count not yet written. */
    async flush(): Promise<void> {
      closeWindow();
      await scheduleWrite();
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;

/** Reading the trail: an account's (owners and admins), the caller's own, or the whole instance's (site admins). */
export function createAuditReader({ db, access }: { db: Db; access: AccessService }) {
  async function page(filter: repo.AuditFilter, limit: number, offset: number) {
    const [rows, total] = await Promise.all([repo.listEvents(db, filter, limit, offset), repo.countEvents(db, filter)]);
    return { rows, total };
  }
  return {
    async listForAccount(ctx: RequestContext, selector: AccountSelector, action: string | undefined, limit: number, offset: number) {
      const acc = await access.resolve(ctx.actor, selector);
      access.authorize(ctx.actor, acc, 'audit.read');
      return page({ accountId: acc.accountId, action }, limit, offset);
    },
    async listOwn(ctx: RequestContext, action: string | undefined, limit: number, offset: number) {
      const { actor } = ctx;
      // A user also sees the refused sign-ins that tried their login; a service key has no login.
      if (actor.type === 'user') return page({ actor: { type: 'user', id: actor.userId }, orRefusedLogin: actor.login.toLowerCase(), action }, limit, offset);
      return page({ actor: { type: 'service_key', id: actor.keyId }, action }, limit, offset);
    },
    /** Every event of the instance, refused authentications included: site admins only. */
    async listAll(ctx: RequestContext, action: string | undefined, limit: number, offset: number) {
      const { actor } = ctx;
      if (actor.type !== 'user' || !actor.isSiteAdmin) {
        throw new AppError(
          'site_admin_required',
          "Only a site admin can read the whole instance's audit trail.",
          'Ask a site admin of this Keysmith instance, or read your own at /v1/user/audit-events.',
        );
      }
      requireUnrestricted(actor, "reading the whole instance's audit trail");
      return page({ action }, limit, offset);
    },
  };
}

export type AuditReader = ReturnType<typeof createAuditReader>;
