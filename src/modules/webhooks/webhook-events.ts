// What a webhook can be told, and the one payload shape every event has:
//   {id, event, occurred_at, account, actor, target, data}
// `id` names the event (a redelivery sends the same id again, under a new X-Keysmith-Delivery);
// `target` is the credential, member, certificate or grant concerned, named the same way for every
// kind of credential; nothing in a payload is ever a secret.

export const webhookEvents = [
  'credential.created',
  'credential.deleted',
  'credential.expiring',
  'credential.expired',
  'credential.revoked',
  'member.added',
  'member.removed',
  'member.role_changed',
  'ssh_certificate.issued',
  'ssh_certificate.revoked',
  'grant.given',
  'grant.revoked',
] as const;

export type WebhookEvent = (typeof webhookEvents)[number];

/** Sent by POST …/webhooks/{id}/ping only, whatever the webhook subscribes to. */
export const PING_EVENT = 'ping';

/** Subscribes to every event, including ones added later. */
export const ALL_EVENTS = '*';

const known: ReadonlySet<string> = new Set(webhookEvents);
export const isWebhookEvent = (name: string): name is WebhookEvent => known.has(name);

export type CredentialKind = 'user_api_key' | 'service_api_key' | 'ssh_key' | 'deploy_key' | 'checkout_key' | 'host_key';

/** Who made the change: a person, a service key, or Keysmith itself (the scheduler, a leak report). */
export type EventActor = { type: 'user'; login: string } | { type: 'service_key'; id: number; name: string } | { type: 'system' };

/** What the event is about. `name` is the title, host or key name; `fingerprint` an SSH key's SHA256 or an API key's start. */
export interface EventTarget {
  type: CredentialKind | 'member' | 'ssh_certificate' | 'grant';
  id: number | string;
  name?: string;
  fingerprint?: string;
}

export interface AccountEvent {
  event: WebhookEvent;
  accountId: number;
  actor: EventActor;
  target: EventTarget;
  data?: Record<string, string | number | boolean | null>;
}

export interface WebhookPayload {
  id: string;
  event: WebhookEvent | typeof PING_EVENT;
  occurred_at: string;
  account: string;
  actor: EventActor;
  target: EventTarget | null;
  data: Record<string, string | number | boolean | null>;
}
