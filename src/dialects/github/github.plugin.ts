// GitHub's key API under /api/v3 (GitHub Enterprise's prefix), so @octokit/rest with
// baseUrl "<public url>/api/v3" works unchanged. Wire shapes only: every rule is in the modules.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { actorOf, contextOf } from '../../http/auth.ts';
import { pathRefusal } from '../../http/control-in-path.ts';
import { pageOf, setLinkHeader } from '../../http/pagination.ts';
import { createValidatorCompiler } from '../../http/validation.ts';
import { requireUser } from '../../modules/access/access.service.ts';
import { actorScopes } from '../../modules/access/actor.ts';
import { scopeNames, scopeSatisfies, type Scope } from '../../modules/access/roles.ts';
import type { ProjectRef } from '../../modules/projects/projects.service.ts';
import type { SshKey } from '../../modules/ssh-keys/ssh-keys.service.ts';
import type { Services } from '../../services.ts';
import { sendGithubError } from './github.errors.ts';
import {
  DeployKey,
  GithubError,
  githubErrors,
  GithubUser,
  KeyIdParams,
  ListQuery,
  NewDeployKeyBody,
  NewUserKeyBody,
  PublicKey,
  RepoKeyParams,
  RepoParams,
  UserKey,
  UsernameParams,
} from './github.schemas.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a restricted key needs here; announced in X-Accepted-OAuth-Scopes. */
    acceptedScope?: Scope;
  }
}

/** A GitHub repository is a Keysmith project of vcs `gh`: /repos/{owner}/{repo} names gh/{owner}/{repo}. */
const repoRef = (owner: string, repo: string): ProjectRef => ({ vcs: 'gh', account: owner, name: repo });

const githubTime = (iso: string): string => iso.replace(/\.\d{3}Z$/, 'Z');

/** Every scope that includes `needed`, as GitHub lists them. */
const acceptedScopes = (needed: Scope): string => scopeNames.filter((s) => scopeSatisfies([s], needed)).join(', ');

export const githubDialect: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'sshKeys'>; publicUrl: string }> = async (app, { services, publicUrl }) => {
  const base = `${publicUrl}/api/v3`;
  const tags = ['GitHub-compatible (/api/v3)'];
  app.addSchema(GithubError);
  // Fastify rebuilds its default validator (which coerces types) in a plugin that adds a schema; keep
  // ours, so `title: 123` or `read_only: "yes"` is refused as GitHub refuses it. Unknown fields are
  // ignored, as GitHub ignores them.
  app.setValidatorCompiler(createValidatorCompiler({ unknownFields: 'drop' }));
  app.setErrorHandler((err, request, reply) => sendGithubError(request, reply, err, publicUrl));
  app.setNotFoundHandler((request, reply) =>
    sendGithubError(request, reply, pathRefusal(request.url) ?? new AppError('not_found', 'Not Found: this path is not part of the GitHub-compatible API.'), publicUrl),
  );

  app.addHook('onSend', async (request, reply) => {
    // Octokit reports this id in its errors and logs ("request id UNKNOWN" without it).
    reply.header('x-github-request-id', request.id);
    const held = request.actor ? actorScopes(request.actor) : [];
    reply.header('x-oauth-scopes', (held ?? scopeNames).join(', '));
    const needed = request.routeOptions.config.acceptedScope;
    reply.header('x-accepted-oauth-scopes', needed ? acceptedScopes(needed) : '');
  });

  // GitHub's `verified` says whether the key's holder has confirmed it; Keysmith's confirmation is the
  // proof of possession (PUT /v1/user/ssh-keys/{id}/verification). Deploy keys, added by a repository
  // admin, are verified as on GitHub.
  const keyView = (row: SshKey, url: string) => ({
    id: row.id,
    key: row.public_key,
    url,
    title: row.title,
    verified: row.kind === 'deploy' || row.verified_at !== null,
    verified_at: row.verified_at ? githubTime(row.verified_at) : null,
    created_at: githubTime(row.created_at),
    read_only: row.read_only,
    last_used: row.last_used_at ? githubTime(row.last_used_at) : null,
    fingerprint: row.fingerprint_sha256,
    expires_at: row.expires_at ? githubTime(row.expires_at) : null,
    expired: row.expired,
  });
  const userKeyView = (row: SshKey) => keyView(row, `${base}/user/keys/${row.id}`);
  const deployKeyView = (row: SshKey, owner: string, repo: string) => ({
    ...keyView(row, `${base}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/keys/${row.id}`),
    added_by: row.added_by,
  });

  const immutable = (allow: string) => async () => {
    throw new AppError('method_not_allowed', 'SSH keys cannot be changed: delete this key and add it again with the new title or settings.', undefined, {
      extra: { allow },
    });
  };

  app.get('/user', { schema: { tags, summary: 'The authenticated user, GitHub-shaped', response: { 200: GithubUser, ...githubErrors } } }, async (request) => {
    const actor = requireUser(actorOf(request), 'GET /user', 'describes a person');
    return {
      login: actor.login,
      id: actor.userId,
      type: 'User' as const,
      site_admin: actor.isSiteAdmin,
      name: actor.profile.name,
      email: actor.profile.email,
      url: `${base}/users/${actor.login}`,
      created_at: githubTime(actor.profile.createdAt),
    };
  });

  app.get(
    '/users/:username/keys',
    {
      config: { auth: 'optional' },
      schema: { tags, summary: "A user's public SSH keys (no authentication needed)", params: UsernameParams, querystring: ListQuery, response: { 200: Type.Array(PublicKey), ...githubErrors } },
    },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total } = await services.sshKeys.listPublicKeysOf(request.params.username, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map((r) => ({ id: r.id, key: r.public_key }));
    },
  );

  app.get(
    '/user/keys',
    { config: { acceptedScope: 'read:public_key' }, schema: { tags, summary: 'Your SSH keys', querystring: ListQuery, response: { 200: Type.Array(UserKey), ...githubErrors } } },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total } = await services.sshKeys.listUserKeys(contextOf(request), page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map(userKeyView);
    },
  );

  app.post(
    '/user/keys',
    { config: { acceptedScope: 'write:public_key' }, schema: { tags, summary: 'Add an SSH key to your account', body: NewUserKeyBody, response: { 201: UserKey, ...githubErrors } } },
    async (request, reply) => {
      const body = userKeyView(await services.sshKeys.addUserKey(contextOf(request), { title: request.body.title, key: request.body.key, expiresAt: request.body.expires_at }));
      return reply.status(201).header('location', body.url).send(body);
    },
  );

  app.get(
    '/user/keys/:key_id',
    { config: { acceptedScope: 'read:public_key' }, schema: { tags, summary: 'One of your SSH keys', params: KeyIdParams, response: { 200: UserKey, ...githubErrors } } },
    async (request) => userKeyView(await services.sshKeys.getUserKey(contextOf(request), request.params.key_id)),
  );

  app.delete(
    '/user/keys/:key_id',
    { config: { acceptedScope: 'admin:public_key' }, schema: { tags, summary: 'Delete one of your SSH keys', params: KeyIdParams, response: { 204: Type.Null(), ...githubErrors } } },
    async (request, reply) => {
      await services.sshKeys.deleteUserKey(contextOf(request), request.params.key_id);
      return reply.status(204).send(null);
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({ method, url: '/user/keys/:key_id', schema: { tags, summary: 'Not allowed: keys are immutable', params: KeyIdParams, response: githubErrors }, handler: immutable('GET, DELETE') });
    app.route({
      method,
      url: '/repos/:owner/:repo/keys/:key_id',
      schema: { tags, summary: 'Not allowed: keys are immutable', params: RepoKeyParams, response: githubErrors },
      handler: immutable('GET, DELETE'),
    });
  }

  app.get(
    '/repos/:owner/:repo/keys',
    {
      config: { acceptedScope: 'read:project' },
      schema: { tags, summary: 'Deploy keys of project gh/{owner}/{repo}', params: RepoParams, querystring: ListQuery, response: { 200: Type.Array(DeployKey), ...githubErrors } },
    },
    async (request, reply) => {
      const { owner, repo } = request.params;
      const page = pageOf(request.query);
      const { rows, total } = await services.sshKeys.listDeployKeys(contextOf(request), repoRef(owner, repo), page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map((r) => deployKeyView(r, owner, repo));
    },
  );

  app.post(
    '/repos/:owner/:repo/keys',
    {
      config: { acceptedScope: 'write:project' },
      schema: { tags, summary: 'Add a deploy key (read-only unless read_only is false)', params: RepoParams, body: NewDeployKeyBody, response: { 201: DeployKey, ...githubErrors } },
    },
    async (request, reply) => {
      const { owner, repo } = request.params;
      const { title, key, read_only: readOnly, expires_at: expiresAt } = request.body;
      const body = deployKeyView(await services.sshKeys.addDeployKey(contextOf(request), repoRef(owner, repo), { title, key, readOnly, expiresAt }), owner, repo);
      return reply.status(201).header('location', body.url).send(body);
    },
  );

  app.get(
    '/repos/:owner/:repo/keys/:key_id',
    { config: { acceptedScope: 'read:project' }, schema: { tags, summary: 'One deploy key', params: RepoKeyParams, response: { 200: DeployKey, ...githubErrors } } },
    async (request) => {
      const { owner, repo, key_id } = request.params;
      return deployKeyView(await services.sshKeys.getDeployKey(contextOf(request), repoRef(owner, repo), key_id), owner, repo);
    },
  );

  app.delete(
    '/repos/:owner/:repo/keys/:key_id',
    { config: { acceptedScope: 'write:project' }, schema: { tags, summary: 'Delete a deploy key', params: RepoKeyParams, response: { 204: Type.Null(), ...githubErrors } } },
    async (request, reply) => {
      const { owner, repo, key_id } = request.params;
      await services.sshKeys.deleteDeployKey(contextOf(request), repoRef(owner, repo), key_id);
      return reply.status(204).send(null);
    },
  );
};
