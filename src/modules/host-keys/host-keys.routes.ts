// Native routes of a project's per-host SSH keys: the public parts are listed; a private key goes in
// once and comes out only to a runner (checkout-credentials). The CircleCI v1.1 dialect translates the
// same service.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { projectPathOf, ProjectPathParams } from '../../http/native-params.ts';
import { CredentialQuery } from '../../http/pagination.ts';
import { errorResponses, Timestamp } from '../../http/schemas.ts';
import type { HostKeyService } from './host-keys.service.ts';

const HostKey = Type.Object({
  hostname: Type.String({ description: 'Empty: every host' }),
  fingerprint: Type.String({ description: 'MD5, colon hex' }),
  fingerprint_sha256: Type.String(),
  public_key: Type.String(),
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null()], { description: 'Null: never expires.' }),
  expired: Type.Boolean({ description: 'True once expires_at has passed.' }),
});
const hostname = Type.String({ maxLength: 253, description: 'The host the key is for, e.g. deploy.example.com; empty for every host.' });
const NewHostKeyBody = Type.Object(
  {
    hostname,
    private_key: Type.String({ minLength: 1, maxLength: 16_384, description: 'The private key without a passphrase (OpenSSH or PEM). Never shown again.' }),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()], { description: 'RFC 3339, at most 10 years ahead; absent or null: never expires.' })),
  },
  { additionalProperties: false },
);
const HostKeyParams = Type.Object({ ...ProjectPathParams, fingerprint: Type.String({ minLength: 1, maxLength: 100, description: 'MD5 colon hex, or SHA256:… (URL-encoded)' }) });
const HostKeyQuery = Type.Object({ ...CredentialQuery, hostname }, { additionalProperties: false });

export const hostKeyRoutes: FastifyPluginAsyncTypebox<{ hostKeys: HostKeyService }> = async (app, { hostKeys }) => {
  const tags = ['ssh-keys of a project'];
  const base = '/v1/projects/:vcs/:account/:name/ssh-keys';
  const view = (r: { hostname: string; fingerprint_md5: string; fingerprint_sha256: string; public_key: string; created_at: string; expires_at: string | null; expired: boolean }) => ({
    hostname: r.hostname,
    fingerprint: r.fingerprint_md5,
    fingerprint_sha256: r.fingerprint_sha256,
    public_key: r.public_key,
    created_at: r.created_at,
    expires_at: r.expires_at,
    expired: r.expired,
  });

  app.get(
    base,
    { schema: { tags, summary: "A project's per-host SSH keys (public parts only)", params: Type.Object(ProjectPathParams), response: { 200: Type.Array(HostKey), ...errorResponses } } },
    async (request) => {
      const p = projectPathOf(request.params);
      return (await hostKeys.list(contextOf(request), p)).map(view);
    },
  );

  app.post(
    base,
    {
      schema: {
        tags,
        summary: 'Add a per-host SSH key (its private half is stored encrypted, for runner keys only)',
        params: Type.Object(ProjectPathParams),
        body: NewHostKeyBody,
        response: { 201: HostKey, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      const added = await hostKeys.add(contextOf(request), { project: p, hostname: request.body.hostname, privateKey: request.body.private_key, expiresAt: request.body.expires_at });
      return reply.status(201).send(
        view({
          hostname: added.hostname,
          fingerprint_md5: added.fingerprintMd5,
          fingerprint_sha256: added.fingerprintSha256,
          public_key: added.publicKey,
          created_at: added.createdAt,
          expires_at: added.expiresAt,
          expired: false,
        }),
      );
    },
  );

  app.delete(
    `${base}/:fingerprint`,
    {
      schema: {
        tags,
        summary: 'Delete a per-host SSH key: the fingerprint in the path, the host as ?hostname= (empty for the every-host key)',
        params: HostKeyParams,
        querystring: HostKeyQuery,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = projectPathOf(request.params);
      await hostKeys.remove(contextOf(request), { project: p, fingerprint: request.params.fingerprint, hostname: request.query.hostname });
      return reply.status(204).send(null);
    },
  );
};
