import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';

const HerokuStatus = Type.Object({ configured: Type.Boolean(), last4: Type.Union([Type.String(), Type.Null()]) }, { description: 'Never the key itself.' });
const HerokuKeyBody = Type.Object({ apikey: Type.String({ minLength: 1, maxLength: 256, description: 'Your Heroku API key (heroku auth:token)' }) }, { additionalProperties: false });

export const herokuRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'heroku'> }> = async (app, { services }) => {
  const tags = ['integrations'];
  app.get(
    '/v1/user/integrations/heroku',
    { schema: { tags, summary: 'Whether your Heroku key is set, and its last 4 characters', response: { 200: HerokuStatus, ...errorResponses } } },
    async (request) => services.heroku.status(contextOf(request)),
  );
  app.put(
    '/v1/user/integrations/heroku',
    { schema: { tags, summary: 'Set (or replace) your Heroku API key; it is stored encrypted and never shown again', body: HerokuKeyBody, response: { 200: HerokuStatus, ...errorResponses } } },
    async (request) => services.heroku.set(contextOf(request), request.body.apikey),
  );
  app.delete('/v1/user/integrations/heroku', { schema: { tags, summary: 'Remove your Heroku key', response: { 200: HerokuStatus, ...errorResponses } } }, async (request) =>
    services.heroku.remove(contextOf(request)),
  );
};
