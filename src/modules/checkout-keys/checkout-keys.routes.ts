// Native routes around a project's keys: its per-host SSH keys (public parts), and the
// checkout-credentials a `runner` service key fetches for a CI job.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { errorResponses, Nullable, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { ProjectParams } from '../projects/projects.schemas.ts';

const HostKey = Type.Object({ hostname: Type.String(), fingerprint: Type.String(), fingerprint_sha256: Type.String(), public_key: Type.String(), created_at: Timestamp });
const Credentials = Type.Object({
  checkout_key: Nullable(Type.Object({ fingerprint: Type.String(), fingerprint_sha256: Type.String(), type: Type.String(), private_key: Type.String() })),
  ssh_keys: Type.Array(Type.Object({ hostname: Type.String(), fingerprint: Type.String(), fingerprint_sha256: Type.String(), private_key: Type.String() })),
});

export const projectKeyRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'checkoutKeys' | 'hostKeys'> }> = async (app, { services }) => {
  const tags = ['projects'];
  app.get('/v1/projects/:vcs/:account/:name/ssh-keys', { schema: { tags, summary: "A project's per-host SSH keys (public parts only)", params: ProjectParams, response: { 200: Type.Array(HostKey), ...errorResponses } } }, async (request) => {
    const rows = await services.hostKeys.list(contextOf(request), request.params);
    return rows.map((r) => ({ hostname: r.hostname, fingerprint: r.fingerprint_md5, fingerprint_sha256: r.fingerprint_sha256, public_key: r.public_key, created_at: r.created_at }));
  });

  app.get(
    '/v1/projects/:vcs/:account/:name/checkout-credentials',
    { schema: { tags, summary: 'The private keys a CI job needs (runner service keys only; every call is audited)', params: ProjectParams, response: { 200: Credentials, ...errorResponses } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { checkoutKey: key, hostKeys } = await services.checkoutKeys.credentials(contextOf(request), request.params);
      return {
        checkout_key: key && { fingerprint: key.fingerprintMd5, fingerprint_sha256: key.fingerprintSha256, type: key.kind === 'deploy' ? 'deploy-key' : 'user-key', private_key: key.privateKey },
        ssh_keys: hostKeys.map((h) => ({ hostname: h.hostname, fingerprint: h.fingerprintMd5, fingerprint_sha256: h.fingerprintSha256, private_key: h.privateKey })),
      };
    },
  );
};
