// The credential scheduler (README: Notifications → What is sent when): the time-based notices of
// every credential — expiring in 30, 7 and 1 days, expired — and dormant credentials, warned 7 days
// before they are disabled and then disabled. scan() is the `credentials.scan` job, run once across
// nodes; each notice is given once because giving it first claims its row in credential_notices (a
// primary key) in the same transaction that queues the webhook delivery or the email, so a restart, a
// second node or a scan that overlaps another sends nothing twice. The owning modules answer through
// their CredentialSource; a person's own keys are told to them by email, an account's to its webhooks.
import type { Db, Executor } from '../../db/schema.ts';
import type { DormancyLimits } from '../policies/policies.service.ts';
import type { OwnerMailer, OwnerNotice } from '../mail/owner-notices.ts';
import type { AccountEvent } from '../webhooks/webhook-events.ts';
import type { CredentialFacts, CredentialSource } from './credential-source.ts';
import * as repo from './credential-notices.repo.ts';

/** Days before its expiry a credential is announced as expiring, latest first. */
export const EXPIRY_NOTICE_DAYS = [1, 7, 30] as const;
/** How long before disabling a dormant credential it is warned (half the period, for periods under 14 days). */
export const DORMANT_WARNING_DAYS = 7;
/** An expiry older than this when first seen (a scheduler that was off) is not announced any more. */
export const EXPIRED_LOOKBACK_DAYS = 7;

const DAY_MS = 86_400_000;

const warningLeadDays = (days: number) => Math.min(DORMANT_WARNING_DAYS, Math.floor(days / 2));

export interface ScanReport {
  expiring: number;
  expired: number;
  dormantWarnings: number;
  disabled: number;
}

interface Deps {
  db: Db;
  sources: readonly CredentialSource[];
  policies: { dormancyLimits(): Promise<DormancyLimits> };
  webhooks: { enqueue(trx: Executor, event: AccountEvent): Promise<number>; kick(): void };
  mail: OwnerMailer;
  clock: { now(): Date };
  logger: { warn(obj: object, msg: string): void };
}

export function createCredentialNoticeService({ db, sources, policies, webhooks, mail, clock, logger }: Deps) {
  /** Tells the credential's owner: its user by email, its account's webhooks. In the caller's transaction. */
  async function tell(trx: Executor, c: CredentialFacts, mailed: Omit<OwnerNotice, 'userId' | 'credential'>, event: Pick<AccountEvent, 'event' | 'data'>): Promise<void> {
    if (c.owner.type === 'user') {
      if (c.kind !== 'ssh_key' && c.kind !== 'user_api_key') return;
      await mail.enqueue(trx, { ...mailed, userId: c.owner.userId, credential: { type: c.kind, id: c.id, name: c.name, fingerprint: c.fingerprint } });
      return;
    }
    await webhooks.enqueue(trx, { ...event, accountId: c.owner.accountId, actor: { type: 'system' }, target: { type: c.kind, id: c.id, name: c.name, fingerprint: c.fingerprint } });
  }

  /** Claims the notice and tells the owner, in one transaction; false when it was given before. */
  function giveOnce(source: CredentialSource, c: CredentialFacts, notice: string, basis: string, at: string, send: (trx: Executor) => Promise<void>): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      if (!(await repo.claim(trx, { credential_type: source.table, credential_id: c.id, notice, basis }, at))) return false;
      await send(trx);
      return true;
    });
  }

  async function scanExpiry(source: CredentialSource, now: Date, report: ScanReport): Promise<void> {
    const nowMs = now.getTime();
    const at = now.toISOString();
    const from = new Date(nowMs - EXPIRED_LOOKBACK_DAYS * DAY_MS).toISOString();
    const to = new Date(nowMs + EXPIRY_NOTICE_DAYS[EXPIRY_NOTICE_DAYS.length - 1]! * DAY_MS).toISOString();
    for (const c of await source.listExpiring(db, from, to)) {
      const expiresAt = c.expiresAt!;
      const leftMs = Date.parse(expiresAt) - nowMs;
      if (leftMs <= 0) {
        const given = await giveOnce(source, c, 'expired', expiresAt, at, (trx) => tell(trx, c, { kind: 'expired', expiresAt }, { event: 'credential.expired', data: { expires_at: expiresAt } }));
        if (given) report.expired++;
        continue;
      }
      // Only the nearest notice due: a key made with 5 days left gets the 7-day one, never the 30-day one.
      const notice = EXPIRY_NOTICE_DAYS.find((days) => leftMs <= days * DAY_MS)!;
      const daysLeft = Math.ceil(leftMs / DAY_MS);
      const given = await giveOnce(source, c, `expiring_${notice}`, expiresAt, at, (trx) =>
        tell(trx, c, { kind: 'expiring', daysLeft, expiresAt }, { event: 'credential.expiring', data: { reason: 'expiry', notice_days: notice, days_left: daysLeft, expires_at: expiresAt } }),
      );
      if (given) report.expiring++;
    }
  }

  async function scanDormancy(source: CredentialSource, limits: DormancyLimits, now: Date, report: ScanReport): Promise<void> {
    const dormancy = source.dormancy;
    if (!dormancy) return;
    const all = [...(limits.instance === null ? [] : [limits.instance]), ...limits.byAccount.values()];
    if (all.length === 0) return;
    const shortest = Math.min(...all);
    const nowMs = now.getTime();
    const at = now.toISOString();
    // Nothing unused for less than the earliest warning point of the shortest limit can be due.
    const before = new Date(nowMs - (shortest - warningLeadDays(shortest)) * DAY_MS).toISOString();
    for (const c of await dormancy.listUnusedSince(db, before)) {
      // A person's own key answers to the instance's limit; an account's to the shorter of the two.
      const accountLimit = c.owner.type === 'account' ? limits.byAccount.get(c.owner.accountId) : undefined;
      const days = [limits.instance, accountLimit].filter((d): d is number => d != null).reduce((a, b) => Math.min(a, b), Infinity);
      if (days === Infinity) continue;
      // An expired credential stops by itself; disabling it would tell its owner nothing useful.
      if (c.expiresAt !== null && Date.parse(c.expiresAt) <= nowMs) continue;
      const unusedMs = nowMs - Date.parse(c.activeAt);
      if (unusedMs >= days * DAY_MS) {
        const disabled = await db.transaction().execute(async (trx) => {
          if (!(await dormancy.disable(trx, c, at, days))) return false;
          await tell(trx, c, { kind: 'disabled_dormant', unusedDays: days }, { event: 'credential.revoked', data: { reason: 'dormant', unused_days: days, last_active_at: c.activeAt } });
          return true;
        });
        if (!disabled) continue;
        report.disabled++;
        await dormancy.afterDisable?.(c);
        continue;
      }
      const lead = warningLeadDays(days);
      if (lead === 0 || unusedMs < (days - lead) * DAY_MS) continue;
      const disablesAt = new Date(Date.parse(c.activeAt) + days * DAY_MS).toISOString();
      const given = await giveOnce(source, c, 'dormant_warning', c.activeAt, at, (trx) =>
        tell(
          trx,
          c,
          { kind: 'dormant_warning', disablesAt },
          { event: 'credential.expiring', data: { reason: 'dormant', days_left: Math.ceil((Date.parse(disablesAt) - nowMs) / DAY_MS), disables_at: disablesAt, last_active_at: c.activeAt } },
        ),
      );
      if (given) report.dormantWarnings++;
    }
  }

  return {
    /**
     * One pass over every credential source: expiry notices, then dormant warnings and disabling.
     * A failure with one source is logged and the others still run; deliveries start after.
     */
    async scan(): Promise<ScanReport> {
      const now = clock.now();
      const report: ScanReport = { expiring: 0, expired: 0, dormantWarnings: 0, disabled: 0 };
      const limits = await policies.dormancyLimits();
      let failed: Error | undefined;
      for (const source of sources) {
        try {
          await scanExpiry(source, now, report);
          await scanDormancy(source, limits, now, report);
        } catch (err) {
          logger.warn({ err, source: source.table }, 'credential scan failed for one kind of credential; the next scan tries again');
          failed ??= err instanceof Error ? err : new Error(String(err));
        }
      }
      webhooks.kick();
      mail.kick();
      await repo.prune(
        db,
        ['expired', ...EXPIRY_NOTICE_DAYS.map((d) => `expiring_${d}`)],
        new Date(now.getTime() - 4 * EXPIRED_LOOKBACK_DAYS * DAY_MS).toISOString(),
        new Date(now.getTime() - 30 * DAY_MS).toISOString(),
      );
      if (failed) throw failed;
      return report;
    },
  };
}

export type CredentialNoticeService = ReturnType<typeof createCredentialNoticeService>;
