// Email to people about their own credentials (README: Notifications → Email). A change that has
// something to tell queues an OwnerNotice with enqueue() inside its own transaction: the message is
// rendered there and written to the outbox (mail_outbox), so it commits with the change or not at
// all, and says what the change said. After commit kick() starts a delivery run; the `mail.deliver`
// job runs one every few seconds on every node anyway. Each attempt first claims its row with a lease
// (compare-and-swap), so across nodes one node sends it; a node that dies mid-send leaves the row to
// be tried again when the lease ends (the person may then get the message twice, never zero times).
import nodemailer from 'nodemailer';
import type { Db, Executor } from '../../db/schema.ts';
import type { MailConfig } from '../../config.ts';
import { renderOwnerNotice } from './mail-messages.ts';
import type { OwnerMailer, OwnerNotice } from './owner-notices.ts';
import * as repo from './mail.repo.ts';

/** Seconds to wait after each failed attempt: 1 min, 5 min, 30 min, 2 h, 12 h; the 6th attempt is the last. */
export const MAIL_RETRY_DELAYS_SECONDS = [60, 300, 1_800, 7_200, 43_200] as const;
export const MAIL_MAX_ATTEMPTS = MAIL_RETRY_DELAYS_SECONDS.length + 1;
/** Every SMTP wait (connecting, the greeting, each answer): a dead server never holds a node long. */
export const SMTP_TIMEOUT_MS = 10_000;
/** How long a claimed attempt is this node's alone (longer than an attempt's time-outs). */
const LEASE_MS = 60_000;
const DUE_BATCH = 20;
/** Sent messages (and given-up ones) are kept this long, then deleted. */
export const MAIL_KEPT_DAYS = 30;
const ERROR_KEPT = 500;

export type MailOutcome = 'sent' | 'failed' | 'gave_up';

/** What delivery needs of a transport: nodemailer's, built once from KEYSMITH_SMTP_URL. */
interface Transport {
  sendMail(message: { from: string; to: string; subject: string; text: string; headers: Record<string, string> }): Promise<unknown>;
  close(): void;
}

interface Deps {
  db: Db;
  /** config.mail: undefined turns email off (enqueue does nothing). */
  mail: MailConfig | undefined;
  publicUrl: string;
  /** The users module's answer to "where is this user emailed?" (read in the caller's transaction). */
  users: { contactOf(exec: Executor, userId: number): Promise<{ login: string; email: string | null } | undefined> };
  clock: { now(): Date };
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Counts each attempt's outcome (GET /metrics). */
  onSent?: (outcome: MailOutcome) => void;
}

/**
 * nodemailer's options from the URL, with our time-outs. The URL is taken apart here rather than
 * handed over whole, so the password lives only in the transport's auth and no log line carries it.
 */
export function transportOptions(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    // No connection pool: a message every few minutes at most; each send opens and closes its own.
    pool: false,
  };
}

/** The address's domain, the most of it a log line shows. */
const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).slice(0, 100);

/** An SMTP failure as one short line, with the recipient's address (which servers echo) taken out. */
function describeError(err: unknown, to: string): string {
  const e = err as { message?: unknown; code?: unknown; responseCode?: unknown };
  const parts = [typeof e.code === 'string' ? e.code : undefined, typeof e.responseCode === 'number' ? String(e.responseCode) : undefined, typeof e.message === 'string' ? e.message : String(err)];
  const text = parts
    .filter(Boolean)
    .join(' ')
    .split(to)
    .join('<recipient>')
    .replace(/[\r\n]+/g, ' ');
  return text.length > ERROR_KEPT ? text.slice(0, ERROR_KEPT) : text;
}

export function createMailService({ db, mail, publicUrl, users, clock, logger, onSent }: Deps) {
  let transport: Transport | undefined;
  const transportFor = (config: MailConfig): Transport => (transport ??= nodemailer.createTransport(transportOptions(config.smtpUrl)) as unknown as Transport);

  let running: Promise<number> | undefined;
  let again = false;
  /** Something was queued since the last kick (its transaction has committed once the request is answered). */
  let queued = false;

  async function attempt(config: MailConfig, m: Awaited<ReturnType<typeof repo.dueMessages>>[number]): Promise<void> {
    const attempts = m.attempts + 1;
    try {
      await transportFor(config).sendMail({
        from: config.from,
        to: m.to_address,
        subject: m.subject,
        text: m.body,
        // Tells mail servers and autoresponders this is machine-sent (RFC 3834): no out-of-office replies.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    } catch (err) {
      const error = describeError(err, m.to_address);
      const at = clock.now();
      const giveUp = attempts >= MAIL_MAX_ATTEMPTS;
      const next = giveUp ? null : new Date(at.getTime() + MAIL_RETRY_DELAYS_SECONDS[attempts - 1]! * 1000).toISOString();
      await repo.markFailed(db, m.id, attempts, next, error);
      onSent?.(giveUp ? 'gave_up' : 'failed');
      const where = { mail: m.id, domain: domainOf(m.to_address), attempts, error };
      if (giveUp) logger.error(where, `email not sent after ${attempts} attempts; given up`);
      else logger.warn({ ...where, next_attempt_at: next }, 'email not sent; will try again');
      return;
    }
    await repo.markSent(db, m.id, attempts, clock.now().toISOString());
    onSent?.('sent');
  }

  /** One pass over what is due: claims and sends each message. Returns how many were attempted. */
  async function deliverPass(config: MailConfig): Promise<number> {
    let attempted = 0;
    for (;;) {
      const now = clock.now();
      const nowIso = now.toISOString();
      const due = await repo.dueMessages(db, nowIso, DUE_BATCH);
      const claimed = [];
      for (const m of due) {
        if (await repo.claimMessage(db, m.id, m, nowIso, new Date(now.getTime() + LEASE_MS).toISOString())) claimed.push(m);
      }
      await Promise.all(claimed.map((m) => attempt(config, m)));
      attempted += claimed.length;
      if (due.length < DUE_BATCH) return attempted;
    }
  }

  /** Sends what is due; while a pass runs, a call asks for one more pass after it. */
  function deliverDue(): Promise<number> {
    if (!mail) return Promise.resolve(0);
    const config = mail;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await deliverPass(config);
        } while (again);
        return total;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const kick = (): void => {
    deliverDue().catch((err: unknown) => logger.warn({ err }, 'email delivery pass failed'));
  };

  const mailer: OwnerMailer = {
    /**
     * The outbox: inside the caller's transaction, the message rendered now and written for the
     * user's address. Nothing when email is not configured or the user has no address.
     */
    async enqueue(trx: Executor, notice: OwnerNotice): Promise<void> {
      if (!mail) return;
      const contact = await users.contactOf(trx, notice.userId);
      const to = contact?.email?.trim();
      if (!contact || !to) return;
      // Addresses are checked when they are set; one with a control character would be a header's end.
      if (/[\s<>,;]/.test(to) || !to.includes('@')) {
        logger.warn({ user: notice.userId, kind: notice.kind }, 'email not queued: the user address is not a plain address');
        return;
      }
      const at = clock.now();
      const { subject, text } = renderOwnerNotice(notice, { publicUrl, login: contact.login, at });
      const atIso = at.toISOString();
      await repo.insertMessage(trx, {
        user_id: notice.userId,
        to_address: to,
        subject,
        body: text,
        created_at: atIso,
        next_attempt_at: atIso,
        attempts: 0,
        claimed_until: null,
        sent_at: null,
        last_error: null,
      });
      queued = true;
    },
    kick,
  };

  return {
    ...mailer,

    /** Whether email is configured at all (KEYSMITH_SMTP_URL and KEYSMITH_MAIL_FROM). */
    enabled: mail !== undefined,

    /** After a request is answered (so its transaction is over): kick if it queued anything. */
    kickIfQueued(): void {
      if (!queued) return;
      queued = false;
      kick();
    },

    deliverDue,

    /** Deletes messages sent (or given up) more than 30 days ago. Returns how many. */
    async pruneOld(): Promise<number> {
      const before = new Date(clock.now().getTime() - MAIL_KEPT_DAYS * 86_400_000).toISOString();
      return repo.deleteOld(db, before);
    },

    /** Waits for a pass under way, then closes the transport. */
    async close(): Promise<void> {
      await running?.catch(() => undefined);
      transport?.close();
      transport = undefined;
    },
  };
}

export type MailService = ReturnType<typeof createMailService>;
