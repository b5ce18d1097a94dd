// Native /v1 routes of users' SSH keys and projects' deploy keys: the same service the GitHub
// dialect translates, with native field names and the native error shape.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { keyIdOf, projectPathOf } from '../../http/native-params.ts';
import { pageOf, setLinkHeader } from '../../http/pagination.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { SshKey as SshKeyModel, SshKeyService } from './ssh-keys.service.ts';
import type { SshKeyVerificationService } from './ssh-key-verification.service.ts';
import type { SshKeyLifecycle } from './ssh-key-lifecycle.ts';
import { DeployKey, DeployKeyParams, DeployKeysParams, KeyListQuery, NewDeployKeyBody, NewSshKeyBody, SshKey, UserKeyParams, VerificationBody, VerificationChallenge } from './ssh-keys.schemas.ts';

export const sshKeyRoutes: FastifyPluginAsyncTypebox<{ sshKeys: SshKeyService; verification: SshKeyVerificationService; lifecycle: SshKeyLifecycle; publicUrl: string }> = async (
  app,
  { sshKeys, verification, lifecycle, publicUrl },
) => {
  const view = (row: SshKeyModel, url: string) => ({
    id: row.id,
    title: row.title,
    key: row.public_key,
    type: row.key_type,
    bits: row.bits,
    fingerprint_sha256: row.fingerprint_sha256,
    fingerprint_md5: row.fingerprint_md5,
    read_only: row.read_only,
    url,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    expires_at: row.expires_at,
    expired: row.expired,
    verified: row.verified_at !== null,
    verified_at: row.verified_at,
    disabled_at: row.disabled_at,
  });
  const userKeyView = (row: SshKeyModel) => view(row, `${publicUrl}/v1/user/ssh-keys/${row.id}`);
  const projectUrl = (p: { vcs: string; account: string; name: string }) => `${publicUrl}/v1/projects/${p.vcs}/${encodeURIComponent(p.account)}/${encodeURIComponent(p.name)}`;
  const deployKeyView = (row: SshKeyModel, p: { vcs: string; account: string; name: string }) => ({ ...view(row, `${projectUrl(p)}/deploy-keys/${row.id}`), added_by: row.added_by });

  const tags = ['ssh-keys'];
  app.get('/v1/user/ssh-keys', { schema: { tags, summary: 'Your SSH public keys', querystring: KeyListQuery, response: { 200: Type.Array(SshKey), ...errorResponses } } }, async (request, reply) => {
    const page = pageOf(request.query);
    const { rows, total } = await sshKeys.listUserKeys(contextOf(request), page.limit, page.offset);
    setLinkHeader(request, reply, publicUrl, page, total);
    return rows.map(userKeyView);
  });

  app.post('/v1/user/ssh-keys', { schema: { tags, summary: 'Add an SSH public key to your account', body: NewSshKeyBody, response: { 201: SshKey, ...errorResponses } } }, async (request, reply) => {
    const body = userKeyView(await sshKeys.addUserKey(contextOf(request), { title: request.body.title, key: request.body.key, expiresAt: request.body.expires_at }));
    return reply.status(201).header('location', body.url).send(body);
  });

  app.get('/v1/user/ssh-keys/:id', { schema: { tags, summary: 'One of your SSH keys', params: UserKeyParams, response: { 200: SshKey, ...errorResponses } } }, async (request) =>
    userKeyView(await sshKeys.getUserKey(contextOf(request), keyIdOf(request.params.id))),
  );

  app.delete(
    '/v1/user/ssh-keys/:id',
    { schema: { tags, summary: 'Delete one of your SSH keys (a checkout key made from it goes too)', params: UserKeyParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await sshKeys.deleteUserKey(contextOf(request), keyIdOf(request.params.id));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/user/ssh-keys/:id/verification',
    {
      schema: {
        tags,
        summary: 'A challenge to sign with this key (proof of possession); valid 10 minutes, once',
        params: UserKeyParams,
        response: { 201: VerificationChallenge, ...errorResponses },
      },
    },
    async (request, reply) => {
      const c = await verification.issue(contextOf(request), keyIdOf(request.params.id));
      return reply.status(201).send({ challenge: c.challenge, namespace: 'keysmith' as const, expires_at: c.expiresAt, command: c.command });
    },
  );

  app.put(
    '/v1/user/ssh-keys/:id/verification',
    {
      schema: {
        tags,
        summary: "Answer the challenge with ssh-keygen -Y sign's output; the key becomes verified",
        params: UserKeyParams,
        body: VerificationBody,
        response: { 200: SshKey, ...errorResponses },
      },
    },
    async (request) => userKeyView(await verification.verify(contextOf(request), keyIdOf(request.params.id), request.body.signature)),
  );

  const enableDescription =
    'A key unused for longer than the policy allows (disable_unused_after_days) is disabled, not deleted: SSH servers do not accept it until it is enabled again. Enabling starts the unused period afresh; enabling a key that is not disabled changes nothing.';
  app.post(
    '/v1/user/ssh-keys/:id/enable',
    {
      schema: {
        tags,
        summary: 'Enable again one of your SSH keys that was disabled for going unused',
        description: enableDescription,
        params: UserKeyParams,
        response: { 200: SshKey, ...errorResponses },
      },
    },
    async (request) => userKeyView(await lifecycle.enableUserKey(contextOf(request), keyIdOf(request.params.id))),
  );

  const deployTags = ['deploy-keys'];
  const base = '/v1/projects/:vcs/:account/:name/deploy-keys';
  app.get(
    base,
    { schema: { tags: deployTags, summary: "A project's deploy keys", params: DeployKeysParams, querystring: KeyListQuery, response: { 200: Type.Array(DeployKey), ...errorResponses } } },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      const page = pageOf(request.query);
      const { rows, total } = await sshKeys.listDeployKeys(contextOf(request), p, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map((r) => deployKeyView(r, p));
    },
  );

  app.post(
    base,
    {
      schema: {
        tags: deployTags,
        summary: 'Add a deploy key (read-only unless read_only is false)',
        params: DeployKeysParams,
        body: NewDeployKeyBody,
        response: { 201: DeployKey, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      const body = deployKeyView(
        await sshKeys.addDeployKey(contextOf(request), p, { title: request.body.title, key: request.body.key, readOnly: request.body.read_only, expiresAt: request.body.expires_at }),
        p,
      );
      return reply.status(201).header('location', body.url).send(body);
    },
  );

  app.get(`${base}/:id`, { schema: { tags: deployTags, summary: 'One deploy key', params: DeployKeyParams, response: { 200: DeployKey, ...errorResponses } } }, async (request) => {
    const p = projectPathOf(request.params);
    return deployKeyView(await sshKeys.getDeployKey(contextOf(request), p, keyIdOf(request.params.id)), p);
  });

  app.delete(
    `${base}/:id`,
    { schema: { tags: deployTags, summary: 'Delete a deploy key (a checkout key made from it goes too)', params: DeployKeyParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      await sshKeys.deleteDeployKey(contextOf(request), p, keyIdOf(request.params.id));
      return reply.status(204).send(null);
    },
  );

  app.post(
    `${base}/:id/enable`,
    {
      schema: {
        tags: deployTags,
        summary: 'Enable again a deploy key that was disabled for going unused',
        description: enableDescription,
        params: DeployKeyParams,
        response: { 200: DeployKey, ...errorResponses },
      },
    },
    async (request) => {
      const p = projectPathOf(request.params);
      return deployKeyView(await lifecycle.enableDeployKey(contextOf(request), p, keyIdOf(request.params.id)), p);
    },
  );
};
