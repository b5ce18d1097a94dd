import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, readCookie, SESSION_COOKIE } from '../../http/auth.ts';
import { errorResponses, Nullable, PlainText } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { User } from '../users/users.schemas.ts';
import { toUserView } from '../users/users.service.ts';

const SignInBody = Type.Object({ login: PlainText(39, { minLength: 1 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });

export const sessionRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'sessions'>; secureCookie: boolean; /** Counts a successful sign-in (metrics). */ onSignedIn?: () => void }> = async (
  app,
  { services, secureCookie, onSignedIn },
) => {
  const tags = ['session'];
  const cookie = (value: string, maxAge: number) => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secureCookie ? '; Secure' : ''}`;

  app.post(
    '/v1/session',
    {
      config: { auth: 'none' },
      schema: { tags, summary: 'Sign in to the console', body: SignInBody, response: { 200: Type.Object({ user: User, csrf_token: Type.String() }), ...errorResponses } },
    },
    async (request, reply) => {
      const { login, password } = request.body;
      const session = await services.sessions.signIn(login, password, { remoteAddr: request.ip, userAgent: request.headers['user-agent'] ?? null });
      onSignedIn?.();
      reply.header('set-cookie', cookie(session.sessionId, session.maxAgeSeconds));
      return { user: toUserView(session.user), csrf_token: session.csrfToken };
    },
  );

  app.delete(
    '/v1/admin/users/:login/sign-in-throttle',
    {
      schema: {
        tags,
        summary: "Clear a login's sign-in throttle (site admins only)",
        params: Type.Object({ login: Type.String({ minLength: 1, maxLength: 39 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await services.sessions.clearSignInThrottle(contextOf(request), request.params.login);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/session',
    {
      // Public: it reads only the session cookie, and "no session" is its ordinary answer, so a
      // signed-out console asks it without a refusal in the log or the browser console.
      config: { auth: 'none' },
      schema: {
        tags,
        summary: 'The console session, if any: its user and CSRF token (what a reloaded page asks first)',
        response: { 200: Type.Object({ user: Nullable(User), csrf_token: Nullable(Type.String()) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
      const current = await services.sessions.current(sessionId);
      if (!current) {
        if (sessionId) reply.header('set-cookie', cookie('', 0));
        return { user: null, csrf_token: null };
      }
      if (current.disabled) return { user: null, csrf_token: null };
      return { user: toUserView(current.user), csrf_token: current.csrfToken };
    },
  );

  app.delete('/v1/session', { schema: { tags, summary: 'Sign out', response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await services.sessions.signOut(contextOf(request), readCookie(request.headers.cookie, SESSION_COOKIE));
    reply.header('set-cookie', cookie('', 0));
    return reply.status(204).send(null);
  });
};
