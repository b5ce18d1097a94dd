import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, contextOf, readCookie, SESSION_COOKIE } from '../../http/auth.ts';
import { pageOf, setLinkHeader } from '../../http/pagination.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { toUserView } from './users.service.ts';
import { Caller, ChangePasswordBody, LoginParams, NewUserBody, ResetLink, ResetLinkCheck, ResetLinkCheckBody, SetPasswordBody, User, UserChangesBody, UserListQuery } from './users.schemas.ts';

export const userRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'users' | 'passwords'>; publicUrl: string }> = async (app, { services, publicUrl }) => {
  const tags = ['users'];
  app.get('/v1/user', { schema: { tags, summary: 'The caller: a user, or a service key and its account', response: { 200: Caller, ...errorResponses } } }, async (request) => {
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

  app.post('/v1/admin/users', { schema: { tags, summary: 'Create a user (site admins only)', body: NewUserBody, response: { 201: User, ...errorResponses } } }, async (request, reply) => {
    const user = await services.users.createBySiteAdmin(contextOf(request), request.body);
    return reply.status(201).send(toUserView(user));
  });

  app.get(
    '/v1/admin/users',
    {
      schema: {
        tags,
        summary: 'The users of this instance, ordered by login, optionally by login prefix (site admins only)',
        querystring: UserListQuery,
        response: { 200: Type.Array(User), ...errorResponses },
      },
    },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total } = await services.users.list(contextOf(request), request.query.login_prefix, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map(toUserView);
    },
  );

  app.get('/v1/admin/users/:login', { schema: { tags, summary: 'One user (site admins only)', params: LoginParams, response: { 200: User, ...errorResponses } } }, async (request) =>
    toUserView(await services.users.get(contextOf(request), request.params.login)),
  );

  app.patch(
    '/v1/admin/users/:login',
    {
      schema: {
        tags,
        summary: "Change a user's name, email or site-admin flag, or disable (disabled: true) or enable them (site admins only)",
        params: LoginParams,
        body: UserChangesBody,
        response: { 200: User, ...errorResponses },
      },
    },
    async (request) => {
      const { name, email, site_admin: siteAdmin, disabled } = request.body;
      const user = await services.users.update(contextOf(request), request.params.login, { name, email, siteAdmin, disabled });
      return toUserView(user);
    },
  );

  app.delete(
    '/v1/admin/users/:login',
    { schema: { tags, summary: 'Delete a user and everything they own (site admins only)', params: LoginParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await services.users.remove(contextOf(request), request.params.login);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/admin/users/:login/password-reset',
    { schema: { tags, summary: 'Issue a one-time set-password link for the user, valid 24 hours (site admins only)', params: LoginParams, response: { 201: ResetLink, ...errorResponses } } },
    async (request, reply) => {
      const link = await services.passwords.issueResetLink(contextOf(request), request.params.login);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ url: link.url, expires_at: link.expiresAt });
    },
  );

  app.post(
    '/v1/set-password/check',
    {
      config: { auth: 'none' },
      schema: { tags, summary: 'Whose set-password link this is, and until when it works (no credential)', body: ResetLinkCheckBody, response: { 200: ResetLinkCheck, ...errorResponses } },
    },
    async (request) => {
      const link = await services.passwords.checkResetLink(request.body.token);
      return { login: link.login, expires_at: link.expiresAt };
    },
  );

  app.post(
    '/v1/set-password',
    {
      config: { auth: 'none' },
      schema: {
        tags,
        summary: "Set a password with a set-password link; ends the user's sessions (no credential)",
        body: SetPasswordBody,
        response: { 200: Type.Object({ login: Type.String() }), ...errorResponses },
      },
    },
    async (request) => services.passwords.setPasswordWithLink(request.body.token, request.body.new_password, { remoteAddr: request.ip, userAgent: request.headers['user-agent'] ?? null }),
  );

  app.put(
    '/v1/user/password',
    { schema: { tags, summary: 'Change your password; ends your other sessions', body: ChangePasswordBody, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await services.passwords.changeOwnPassword(
        contextOf(request),
        { currentPassword: request.body.current_password, newPassword: request.body.new_password },
        readCookie(request.headers.cookie, SESSION_COOKIE),
      );
      return reply.status(204).send(null);
    },
  );
};
