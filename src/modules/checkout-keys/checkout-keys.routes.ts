// Native routes of a project's checkout keys, and the checkout-credentials a `runner` service key
// fetches for a CI job. The CircleCI dialects translate the same service.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { projectPathOf, type ProjectPath } from '../../http/native-params.ts';
import { errorResponses } from '../../http/schemas.ts';
import { ProjectParams } from '../projects/projects.schemas.ts';
import { CheckoutKey, CheckoutKeyParams, CheckoutKeysParams, Credentials, NewCheckoutKeyBody } from './checkout-keys.schemas.ts';
import type { CheckoutKeyService, ListedCheckoutKey } from './checkout-keys.service.ts';

export const checkoutKeyRoutes: FastifyPluginAsyncTypebox<{ checkoutKeys: CheckoutKeyService; publicUrl: string }> = async (app, { checkoutKeys, publicUrl }) => {
  const base = '/v1/projects/:vcs/:account/:name/checkout-keys';
  const keyUrl = (p: ProjectPath, fingerprint: string) =>
    `${publicUrl}/v1/projects/${p.vcs}/${encodeURIComponent(p.account)}/${encodeURIComponent(p.name)}/checkout-keys/${encodeURIComponent(fingerprint)}`;
  const view = (key: ListedCheckoutKey, p: ProjectPath) => ({
    public_key: key.public_key,
    type: key.kind,
    fingerprint_md5: key.fingerprint_md5,
    fingerprint_sha256: key.fingerprint_sha256,
    preferred: key.preferred,
    url: keyUrl(p, key.fingerprint_sha256),
    created_at: key.created_at,
  });

  const tags = ['checkout-keys'];
  app.get(
    base,
    { schema: { tags, summary: "A project's checkout keys, newest first", params: CheckoutKeysParams, response: { 200: Type.Array(CheckoutKey), ...errorResponses } } },
    async (request) => {
      const p = projectPathOf(request.params);
      const listed = await checkoutKeys.list(contextOf(request), p);
      return listed.keys.map((k) => view(k, p));
    },
  );

  app.post(
    base,
    {
      schema: {
        tags,
        summary: 'Generate a checkout key (a deploy key, or a user key on your own account with your write:public_key grant)',
        params: CheckoutKeysParams,
        body: NewCheckoutKeyBody,
        response: { 201: CheckoutKey, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      const created = await checkoutKeys.create(contextOf(request), { project: p, kind: request.body.type, algorithm: request.body.algorithm });
      const body = view(created.key, p);
      return reply.status(201).header('location', body.url).send(body);
    },
  );

  app.get(`${base}/:fingerprint`, { schema: { tags, summary: 'One checkout key', params: CheckoutKeyParams, response: { 200: CheckoutKey, ...errorResponses } } }, async (request) => {
    const p = projectPathOf(request.params);
    return view((await checkoutKeys.get(contextOf(request), p, request.params.fingerprint)).key, p);
  });

  app.delete(
    `${base}/:fingerprint`,
    { schema: { tags, summary: 'Delete a checkout key and its public half (the deploy key, or the user key)', params: CheckoutKeyParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      await checkoutKeys.remove(contextOf(request), p, request.params.fingerprint);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/projects/:vcs/:account/:name/checkout-credentials',
    {
      schema: {
        tags: ['projects'],
        summary: 'The private keys a CI job needs (runner service keys only; every call is audited)',
        params: ProjectParams,
        response: { 200: Credentials, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { checkoutKey: key, hostKeys } = await checkoutKeys.credentials(contextOf(request), projectPathOf(request.params));
      return {
        checkout_key: key && { fingerprint: key.fingerprintMd5, fingerprint_sha256: key.fingerprintSha256, type: key.kind === 'deploy' ? 'deploy-key' : 'user-key', private_key: key.privateKey },
        ssh_keys: hostKeys.map((h) => ({ hostname: h.hostname, fingerprint: h.fingerprintMd5, fingerprint_sha256: h.fingerprintSha256, private_key: h.privateKey })),
      };
    },
  );
};
