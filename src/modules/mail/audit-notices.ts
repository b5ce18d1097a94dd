// Which audited changes are a new credential on a person's own account, told to them by email. The
// audit service hands every row it records to noticeFromAudit() inside the change's transaction (as
// it does for webhooks), so the message commits with the key or not at all. Only a person's own keys
// count: deploy keys, service keys and a runner's deploy checkout keys belong to an account (its
// webhooks hear of them), and keys imported from the command line are an operator's bulk work.
import type { AuditEntry, RecordedOrigin } from '../audit/audit.service.ts';
import type { OwnerNotice } from './owner-notices.ts';

export function noticeFromAudit(origin: RecordedOrigin, entry: AuditEntry): OwnerNotice | undefined {
  const target = entry.target;
  if (!target || typeof target.id !== 'number') return undefined;
  const details = entry.details ?? {};
  const text = (key: string): string | undefined => {
    const value = Object.hasOwn(details, key) ? details[key] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
  const userActor = 'actor' in origin && origin.actor.type === 'user' ? origin.actor : undefined;

  switch (entry.action) {
    // A person adding a key to their own account (the native and GitHub routes). Imports run from
    // the CLI and are left out: a few hundred keys would be a few hundred messages.
    case 'ssh_key.create':
      if (!userActor) return undefined;
      return { kind: 'created', userId: userActor.userId, credential: { type: 'ssh_key', id: target.id, name: text('title') ?? '', fingerprint: text('fingerprint') ?? '' } };
    // A user API key, made through the API or by the CLI for that user; its owner is in the details.
    case 'api_key.create': {
      const owner = Object.hasOwn(details, 'user_id') ? details.user_id : undefined;
      if (text('kind') !== 'user' || typeof owner !== 'number') return undefined;
      return { kind: 'created', userId: owner, credential: { type: 'user_api_key', id: target.id, name: target.label ?? '', fingerprint: text('start') ?? '' } };
    }
    // A user checkout key is a new SSH key on its maker's own account (a deploy checkout key is not;
    // a service key cannot make a user one). Its audit row names it by its MD5 fingerprint, as CircleCI
    // does, and its project; its title is the one checkout-keys gives it.
    case 'checkout_key.create':
      if (!userActor || text('kind') !== 'user') return undefined;
      return {
        kind: 'created',
        userId: userActor.userId,
        credential: { type: 'ssh_key', id: target.id, name: `Keysmith checkout key for ${target.label ?? ''}`, fingerprint: `MD5:${text('fingerprint') ?? ''}` },
      };
    default:
      return undefined;
  }
}
