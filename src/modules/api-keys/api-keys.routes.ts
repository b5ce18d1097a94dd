import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, headerSelector } from '../../http/auth.ts';
import { errorResponses, IdParam } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { CreatedServiceApiKey, CreatedUserApiKey, NewServiceApiKeyBody, NewUserApiKeyBody, RotateApiKeyBody, ServiceApiKey, UserApiKey } from './api-keys.schemas.ts';

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'apiKeys' | 'apiKeyRotation' | 'apiKeyLifecycle'> }> = async (app, { services }) => {
  const tags = ['api-keys'];
  const keys = services.apiKeys;
  const rotation = services.apiKeyRotation;
  const lifecycle = services.apiKeyLifecycle;
  /** Idempotency-Key, when sent once; a repeated header is passed on as-is, to be refused with a sentence. */
  const idempotencyKey = (request: { headers: Record<string, string | string[] | undefined> }) => {
    const value = request.headers['idempotency-key'];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  // Every field of a rotate is optional, so `curl -X POST` with no body at all is a rotate with the defaults.
  const bodyOptional = async (request: { body: unknown }) => {
    if (request.body === undefined) request.body = {};
  };
  const rotateDescription =
    'A new key with the same name, role, scopes (and project list) is made and returned with its secret, once; the old key keeps working for grace_seconds, then answers 401 token_rotated. A key is rotated once (409 already_rotated after). With an Idempotency-Key header, a retry within 10 minutes returns the same new key.';

  app.get('/v1/user/api-keys', { schema: { tags, summary: "The caller's own user API keys", response: { 200: Type.Array(UserApiKey), ...errorResponses } } }, async (request) =>
    keys.listUserKeys(contextOf(request)),
  );

  app.post(
    '/v1/user/api-keys',
    { schema: { tags, summary: 'Create a user API key (the secret is in this response only)', body: NewUserApiKeyBody, response: { 201: CreatedUserApiKey, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(await keys.createUserKey(contextOf(request), request.body)),
  );

  app.delete('/v1/user/api-keys/:id', { schema: { tags, summary: 'Delete one of your user API keys', params: IdParam, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await keys.deleteUserKey(contextOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  app.get('/v1/service-api-keys', { schema: { tags, summary: "The selected account's service API keys", response: { 200: Type.Array(ServiceApiKey), ...errorResponses } } }, async (request) =>
    keys.listServiceKeys(contextOf(request), headerSelector(request)),
  );

  app.post(
    '/v1/service-api-keys',
    {
      schema: {
        tags,
        summary: 'Create a service API key (owners and admins; a runner key: owners only; the secret is in this response only)',
        body: NewServiceApiKeyBody,
        response: { 201: CreatedServiceApiKey, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await keys.createServiceKey(contextOf(request), headerSelector(request), request.body)),
  );

  app.delete(
    '/v1/service-api-keys/:id',
    { schema: { tags, summary: 'Delete a service API key (a runner key: owners only)', params: IdParam, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await keys.deleteServiceKey(contextOf(request), headerSelector(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/user/api-keys/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate one of your user API keys (the new secret is in this response only)',
        description: rotateDescription,
        params: IdParam,
        body: RotateApiKeyBody,
        response: { 201: CreatedUserApiKey, ...errorResponses },
      },
      preValidation: bodyOptional,
    },
    async (request, reply) => reply.status(201).send(await rotation.rotateUserKey(contextOf(request), request.params.id, request.body, idempotencyKey(request))),
  );

  app.post(
    '/v1/service-api-keys/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate a service API key (owners and admins; a runner key: owners only; the new secret is in this response only)',
        description: rotateDescription,
        params: IdParam,
        body: RotateApiKeyBody,
        response: { 201: CreatedServiceApiKey, ...errorResponses },
      },
      preValidation: bodyOptional,
    },
    async (request, reply) => reply.status(201).send(await rotation.rotateServiceKey(contextOf(request), headerSelector(request), request.params.id, request.body, idempotencyKey(request))),
  );

  const enableDescription =
    'A key unused for longer than the policy allows (disable_unused_after_days) is disabled, not deleted: it answers 401 token_disabled until enabled again. Enabling starts the unused period afresh; enabling a key that is not disabled changes nothing.';
  app.post(
    '/v1/user/api-keys/:id/enable',
    {
      schema: {
        tags,
        summary: 'Enable again one of your user API keys that was disabled for going unused',
        description: enableDescription,
        params: IdParam,
        response: { 200: UserApiKey, ...errorResponses },
      },
    },
    async (request) => lifecycle.enableUserKey(contextOf(request), request.params.id),
  );
  app.post(
    '/v1/service-api-keys/:id/enable',
    {
      schema: {
        tags,
        summary: 'Enable again a service API key that was disabled for going unused (owners and admins; a runner key: owners only)',
        description: enableDescription,
        params: IdParam,
        response: { 200: ServiceApiKey, ...errorResponses },
      },
    },
    async (request) => lifecycle.enableServiceKey(contextOf(request), headerSelector(request), request.params.id),
  );
};
