import { Type } from 'typebox';
import { Nullable, NullableTimestamp, OwnerName, Timestamp } from '../../http/schemas.ts';
import { ALL_EVENTS, webhookEvents } from './webhook-events.ts';
import { WEBHOOK_URL_MAX_LENGTH } from './webhook-url.ts';

export const WebhookParams = Type.Object({ account: OwnerName('The account') });
export const WebhookIdParams = Type.Object({ account: OwnerName('The account'), id: Type.Integer({ minimum: 1, maximum: 2147483647, description: "The webhook's id" }) });
export const DeliveryParams = Type.Object({
  account: OwnerName('The account'),
  id: Type.Integer({ minimum: 1, maximum: 2147483647, description: "The webhook's id" }),
  delivery: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: "The delivery's id (X-Keysmith-Delivery)" }),
});

/** Event names are checked by the service, so an unknown one gets a sentence listing the known ones. */
export const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: WEBHOOK_URL_MAX_LENGTH + 1, description: 'Where deliveries are POSTed: http:// or https://, not the link-local range' }),
    events: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32, description: `Events to send: ${webhookEvents.join(', ')}; "${ALL_EVENTS}" for every one` }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const WebhookView = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String()),
  created_by: Type.String(),
  created_at: Timestamp,
});

export const CreatedWebhookView = Type.Object({
  ...WebhookView.properties,
  secret: Type.String({ description: 'The signing secret, shown this once: HMAC-SHA256 of the raw body with it is X-Keysmith-Signature-256' }),
});

export const QueuedDeliveryView = Type.Object({ id: Type.String(), event: Type.String(), state: Type.Literal('pending') });

export const DeliveryView = Type.Object({
  id: Type.String({ description: 'X-Keysmith-Delivery' }),
  event: Type.String(),
  event_id: Type.String({ description: "The payload's id; a redelivery repeats it" }),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  created_at: Timestamp,
  delivered_at: NullableTimestamp,
  next_attempt_at: NullableTimestamp,
  last_status_code: Nullable(Type.Integer()),
  attempts: Type.Array(
    Type.Object({
      attempted_at: Timestamp,
      status_code: Nullable(Type.Integer()),
      error: Nullable(Type.String()),
      duration_ms: Type.Integer(),
    }),
  ),
});
