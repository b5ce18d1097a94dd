// Which audited changes an account's webhooks hear of. Every service already writes its audit row in
// the transaction of the change it makes; the audit service hands each row to eventFromAudit(), and
// what it returns is queued in that same transaction, so an event is sent exactly when its change
// commits. A row without an account (a person's own SSH or API key) has no account webhook to tell,
// except a grant: an elevated permission a person holds matters to every account they are a member
// of, so each of those hears of it (grantEventsFromAudit). A leaked key's revocation is queued by the
// revocation itself (RevocationHooks), not here.
import type { Executor } from '../../db/schema.ts';
import type { AuditEntry, RecordedOrigin } from '../audit/audit.service.ts';
import type { AccountEvent, CredentialKind, EventActor, EventTarget, WebhookEvent } from './webhook-events.ts';

const credentials = new Map<string, [WebhookEvent, CredentialKind]>([
  ['service_key.create', ['credential.created', 'service_api_key']],
  ['service_key.delete', ['credential.deleted', 'service_api_key']],
  ['deploy_key.create', ['credential.created', 'deploy_key']],
  ['deploy_key.delete', ['credential.deleted', 'deploy_key']],
  ['checkout_key.create', ['credential.created', 'checkout_key']],
  ['checkout_key.delete', ['credential.deleted', 'checkout_key']],
  ['host_key.create', ['credential.created', 'host_key']],
  ['host_key.delete', ['credential.deleted', 'host_key']],
]);

const others = new Map<string, [WebhookEvent, EventTarget['type']]>([
  ['member.add', ['member.added', 'member']],
  ['member.remove', ['member.removed', 'member']],
  ['member.role_change', ['member.role_changed', 'member']],
  ['ssh_certificate.issue', ['ssh_certificate.issued', 'ssh_certificate']],
  ['ssh_certificate.revoke', ['ssh_certificate.revoked', 'ssh_certificate']],
]);

export function eventActorOf(origin: RecordedOrigin): EventActor {
  if (!('actor' in origin)) return { type: 'system' };
  const { actor } = origin;
  return actor.type === 'user' ? { type: 'user', login: actor.login } : { type: 'service_key', id: actor.keyId, name: actor.keyName };
}

/** The webhook event an audit row stands for, if an account's webhooks should hear of it. */
export function eventFromAudit(origin: RecordedOrigin, entry: AuditEntry): AccountEvent | undefined {
  if (entry.accountId == null || !entry.target) return undefined;
  const details = { ...entry.details };
  const fingerprint = typeof details.fingerprint === 'string' ? details.fingerprint : undefined;
  delete details.fingerprint;
  const named = (type: EventTarget['type']): EventTarget => ({
    type,
    id: entry.target!.id,
    ...(entry.target!.label ? { name: entry.target!.label } : {}),
    ...(fingerprint ? { fingerprint } : {}),
  });
  const base = { accountId: entry.accountId, actor: eventActorOf(origin), data: details };
  const credential = credentials.get(entry.action);
  if (credential) return { ...base, event: credential[0], target: named(credential[1]) };
  const other = others.get(entry.action);
  if (other) return { ...base, event: other[0], target: named(other[1]) };
  // A service key rotated: the old one is revoked (it stops at the end of its grace).
  if (entry.action === 'api_key.rotate' && details.kind === 'service') return { ...base, event: 'credential.revoked', target: named('service_api_key'), data: { ...details, reason: 'rotated' } };
  return undefined;
}

const grantActions = new Map<string, WebhookEvent>([
  ['grant.give', 'grant.given'],
  ['grant.revoke', 'grant.revoked'],
]);

/**
 * A grant given or revoked, as an event for each account its holder is a member of (read in the
 * transaction of the change). The target is the grant (its scope); `data.user` names the holder.
 */
export async function grantEventsFromAudit(
  exec: Executor,
  origin: RecordedOrigin,
  entry: AuditEntry,
  memberAccounts: { idsOf(exec: Executor, userId: number): Promise<number[]> },
): Promise<AccountEvent[]> {
  const event = grantActions.get(entry.action);
  if (!event || !entry.target || !('actor' in origin) || origin.actor.type !== 'user') return [];
  const holder = origin.actor;
  const target: EventTarget = { type: 'grant', id: entry.target.id, name: String(entry.target.id) };
  const data = { ...entry.details, user: holder.login };
  return (await memberAccounts.idsOf(exec, holder.userId)).map((accountId) => ({ event, accountId, actor: eventActorOf(origin), target, data }));
}
