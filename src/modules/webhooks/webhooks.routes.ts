// /v1/accounts/{account}/webhooks (owners and admins): create (secret shown once), list, delete, ping,
// deliveries with every attempt, redeliver.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { WebhookService } from './webhooks.service.ts';
import { CreatedWebhookView, DeliveryParams, DeliveryView, QueuedDeliveryView, WebhookBody, WebhookIdParams, WebhookParams, WebhookView } from './webhooks.schemas.ts';

export const webhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  const tags = ['webhooks'];
  const base = '/v1/accounts/:account/webhooks';
  app.get(base, { schema: { tags, summary: "The account's webhooks (owners, admins)", params: WebhookParams, response: { 200: Type.Array(WebhookView), ...errorResponses } } }, async (request) =>
    webhooks.list(contextOf(request), request.params.account),
  );
  app.post(
    base,
    { schema: { tags, summary: 'Add a webhook; its signing secret is shown once', params: WebhookParams, body: WebhookBody, response: { 201: CreatedWebhookView, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(await webhooks.create(contextOf(request), request.params.account, request.body)),
  );
  app.delete(
    `${base}/:id`,
    { schema: { tags, summary: 'Delete a webhook and its deliveries', params: WebhookIdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await webhooks.remove(contextOf(request), request.params.account, request.params.id);
      return reply.status(204).send(null);
    },
  );
  app.post(
    `${base}/:id/ping`,
    { schema: { tags, summary: 'Send a ping event to this webhook now', params: WebhookIdParams, response: { 202: QueuedDeliveryView, ...errorResponses } } },
    async (request, reply) => reply.status(202).send(await webhooks.ping(contextOf(request), request.params.account, request.params.id)),
  );
  app.get(
    `${base}/:id/deliveries`,
    { schema: { tags, summary: 'The latest 100 deliveries, newest first, with every attempt', params: WebhookIdParams, response: { 200: Type.Array(DeliveryView), ...errorResponses } } },
    async (request) => webhooks.deliveries(contextOf(request), request.params.account, request.params.id),
  );
  app.post(
    `${base}/:id/deliveries/:delivery/redeliver`,
    { schema: { tags, summary: "Send a delivery's body again, as a new delivery", params: DeliveryParams, response: { 202: QueuedDeliveryView, ...errorResponses } } },
    async (request, reply) => reply.status(202).send(await webhooks.redeliver(contextOf(request), request.params.account, request.params.id, request.params.delivery)),
  );
};
