// What an SSH server asks (with an ssh_server service key), and the public <login>.keys text.
// Answers are text/plain authorized_keys lines, never cached: revocation shows on the next login.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, headerSelector } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { AuthorizeBody, AuthorizedKeysQuery, Decision, KeyLines, KeysFileParams } from './ssh-access.schemas.ts';
import type { SshAccessService, SshIdentity } from './ssh-access.service.ts';

const identityView = (identity: SshIdentity | null) =>
  identity === null ? null : identity.type === 'user' ? { type: identity.type, login: identity.login } : { type: identity.type, project: identity.project, read_only: identity.readOnly };

export const sshAccessRoutes: FastifyPluginAsyncTypebox<{ sshAccess: SshAccessService }> = async (app, { sshAccess }) => {
  const tags = ['ssh'];

  app.get(
    '/v1/ssh/authorized-keys',
    {
      schema: {
        tags,
        summary: "sshd's AuthorizedKeysCommand: the authorized_keys line of a presented key, if it may log in (ssh_server service keys only)",
        querystring: AuthorizedKeysQuery,
        response: { 200: KeyLines, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { user, fingerprint, mode = 'login', command } = request.query;
      const lines = await sshAccess.authorizedKeys(contextOf(request), headerSelector(request), { user, fingerprint, mode, command });
      return reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(lines);
    },
  );

  app.post(
    '/v1/ssh/authorize',
    {
      schema: {
        tags,
        summary: 'May this key (key-<id>) read or write this project? For a git server’s forced command (ssh_server service keys only; every decision is audited)',
        body: AuthorizeBody,
        response: { 200: Decision, ...errorResponses },
      },
    },
    async (request) => {
      const decision = await sshAccess.authorize(contextOf(request), headerSelector(request), request.body);
      return { allowed: decision.allowed, message: decision.message, identity: identityView(decision.identity) };
    },
  );

  app.get(
    '/:login.keys',
    {
      config: { auth: 'none' },
      schema: {
        tags,
        summary: "A user's SSH public keys, one per line, as https://github.com/<login>.keys gives them (no authentication)",
        params: KeysFileParams,
        response: { 200: KeyLines, ...errorResponses },
      },
    },
    async (request, reply) => reply.type('text/plain; charset=utf-8').send(await sshAccess.publicKeysOf(request.params.login)),
  );
};
