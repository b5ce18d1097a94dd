import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf, contextOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { toUserView } from './users.service.ts';
import { Caller, NewUserBody, User } from './users.schemas.ts';

export const userRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'users'> }> = async (app, { services }) => {
  app.get('/v1/user', { schema: { tags: ['users'], summary: 'The caller: a user, or a service key and its account', response: { 200: Caller, ...errorResponses } } }, async (request) => {
    const actor = actorOf(request);
    if (actor.type === 'service') {
      return {
        type: 'service_key' as const,
        service_key: { id: actor.keyId, name: actor.keyName, role: actor.role, scopes: actor.scopes, account: { name: actor.accountName } },
      };
    }
    const { profile } = actor;
    return {
      type: 'user' as const,
      user: { id: actor.userId, login: actor.login, name: profile.name, email: profile.email, site_admin: actor.isSiteAdmin, created_at: profile.createdAt },
    };
  });

  app.post('/v1/admin/users', { schema: { tags: ['users'], summary: 'Create a user (site admins only)', body: NewUserBody, response: { 201: User, ...errorResponses } } }, async (request, reply) => {
    const user = await services.users.createBySiteAdmin(contextOf(request), request.body);
    return reply.status(201).send(toUserView(user));
  });
};
