// The words of each email about a person's own credential: plain text, short, saying what happened,
// to which credential (its name and its fingerprint or start: never a secret, never the public key
// itself), when, and what to do, with a link to the console page that does it. Names come from users,
// so everything put into a subject is one line (no CR/LF can start a header of its own) and clipped.
import type { NoticeCredential, OwnerNotice } from './owner-notices.ts';

export interface RenderedMail {
  subject: string;
  text: string;
}

export interface RenderContext {
  /** The console's address (config.publicUrl), without a trailing slash. */
  publicUrl: string;
  /** The recipient's login, for the greeting. */
  login: string;
  /** When the change was made (the notice is rendered in its transaction). */
  at: Date;
}

const NAME_IN_SUBJECT = 80;
const NAME_IN_BODY = 200;

/** One line of text: control characters (CR, LF, tabs, Unicode line separators) become spaces. */
export function oneLine(text: string, max: number): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "2026-12-04 18:00 UTC": a date a person reads, the same whatever their time zone. */
function when(value: string | Date | undefined): string {
  if (value === undefined) return 'soon';
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return oneLine(String(value), 40);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const days = (n: number) => (n === 1 ? '1 day' : `${n} days`);

interface Described {
  /** "SSH key" or "API key". */
  what: string;
  /** The credential's name, quoted, for a subject. */
  subjectName: string;
  /** Its name and fingerprint (or start), as lines of the body. */
  facts: string;
  /** The console page that lists this kind of credential. */
  page: string;
  /** Where it is used, in "replace it wherever …". */
  usedIn: string;
  /** The native route that enables it again. */
  enablePath: string;
}

function describe(credential: NoticeCredential, publicUrl: string): Described {
  const name = oneLine(credential.name, NAME_IN_BODY) || 'untitled';
  const subjectName = `"${oneLine(credential.name, NAME_IN_SUBJECT) || 'untitled'}"`;
  const mark = oneLine(credential.fingerprint, 120);
  if (credential.type === 'ssh_key') {
    return {
      what: 'SSH key',
      subjectName,
      facts: `  Title:       ${name}\n  Fingerprint: ${mark}`,
      page: `${publicUrl}/settings/ssh-keys`,
      usedIn: 'on the machines that sign in with it',
      enablePath: `/v1/user/ssh-keys/${credential.id}/enable`,
    };
  }
  return {
    what: 'API key',
    subjectName,
    facts: `  Name:        ${name}\n  Starts with: ${mark}`,
    page: `${publicUrl}/settings/api-keys`,
    usedIn: 'in the scripts and tools that use it',
    enablePath: `/v1/user/api-keys/${credential.id}/enable`,
  };
}

function body(login: string, paragraphs: string[], publicUrl: string): string {
  const greeting = `Hello ${oneLine(login, 100)},`;
  const footer = `-- \nKeysmith at ${publicUrl}\nYou get this email because it is about a credential on your own account.`;
  return [greeting, ...paragraphs, footer].join('\n\n') + '\n';
}

/** The subject and plain-text body of one notice. */
export function renderOwnerNotice(notice: OwnerNotice, ctx: RenderContext): RenderedMail {
  const { publicUrl } = ctx;
  const c = describe(notice.credential, publicUrl);
  const securityLog = `${publicUrl}/settings/security-log`;
  const make = (subject: string, paragraphs: string[]): RenderedMail => ({ subject: oneLine(subject, 200), text: body(ctx.login, paragraphs, publicUrl) });

  switch (notice.kind) {
    case 'created':
      return make(`New ${c.what} on your Keysmith account: ${c.subjectName}`, [
        `A new ${c.what} was added to your Keysmith account on ${when(ctx.at)}:`,
        c.facts,
        `If you added it, there is nothing to do.\nIf you did not, delete it now at ${c.page}, and read your security log at ${securityLog} to see what else was done as you.`,
      ]);
    case 'expiring': {
      const left = notice.daysLeft !== undefined ? `in ${days(notice.daysLeft)}` : 'soon';
      return make(`Your ${c.what} ${c.subjectName} expires ${left}`, [
        `Your ${c.what} expires ${left}, on ${when(notice.expiresAt)}; after that it stops working:`,
        c.facts,
        `What to do: if you still need it, make a new one at ${c.page} before then and replace this one ${c.usedIn}. If you do not need it, nothing: it stops by itself.`,
      ]);
    }
    case 'expired':
      return make(`Your ${c.what} ${c.subjectName} has expired`, [
        `Your ${c.what} expired on ${when(notice.expiresAt)} and no longer works:`,
        c.facts,
        `What to do: if you still need it, make a new one at ${c.page} and replace this one ${c.usedIn}; you can delete the expired one there too.`,
      ]);
    case 'revoked_leaked':
      return make(`Your ${c.what} ${c.subjectName} was revoked as leaked`, [
        `Your ${c.what} was reported as leaked (found where others could see it, such as a public repository or a log), so Keysmith revoked it on ${when(ctx.at)}:`,
        c.facts,
        `It no longer works; make a new one at ${c.page} and replace it wherever it was used. Whoever found it may have used it before it was revoked: read your security log at ${securityLog}.`,
      ]);
    case 'dormant_warning':
      return make(`Your ${c.what} ${c.subjectName} will be disabled on ${when(notice.disablesAt)}: it is not being used`, [
        `Your ${c.what} has not been used for a long time. Unless it is used before ${when(notice.disablesAt)}, Keysmith will disable it (it is not deleted, and you can enable it again):`,
        c.facts,
        `What to do: if you still need it, use it once before then. If you do not, delete it at ${c.page}.`,
      ]);
    case 'disabled_dormant': {
      const unused = notice.unusedDays !== undefined ? ` for ${days(notice.unusedDays)}` : '';
      return make(`Your ${c.what} ${c.subjectName} was disabled: it was not used${unused}`, [
        `Your ${c.what} was disabled on ${when(ctx.at)} because it had not been used${unused}. It was not deleted:`,
        c.facts,
        `What to do: if you still need it, enable it again with POST ${c.enablePath}, for example:\n\n  curl -X POST -H "Authorization: Bearer <your user API key>" ${publicUrl}${c.enablePath}\n\nIf you do not need it, delete it at ${c.page}.`,
      ]);
    }
  }
}
