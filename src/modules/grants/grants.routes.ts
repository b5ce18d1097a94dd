import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { CredentialQuery } from '../../http/pagination.ts';
import { errorResponses, Nullable, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import type { UserCheckoutKey } from '../checkout-keys/checkout-keys.service.ts';

const MadeKey = Type.Object({ fingerprint: Type.String(), fingerprint_sha256: Type.String(), project: Type.String(), ssh_key_id: Type.Integer() });
const Grant = Type.Object({
  scope: Type.String(),
  title: Type.String(),
  allows: Type.String(),
  granted: Type.Boolean(),
  granted_at: Nullable(Timestamp),
  keys: Type.Optional(Type.Array(MadeKey, { description: 'The user checkout keys made under this grant, which revoking may remove too.' })),
});
const ScopeParams = Type.Object({ scope: Type.String({ minLength: 1, maxLength: 64 }) });
const Revoked = Type.Object({
  scope: Type.String(),
  granted: Type.Literal(false),
  removed_keys: Type.Boolean(),
  keys: Type.Array(MadeKey, { description: 'The user checkout keys made under this grant (removed only with ?remove_keys=true).' }),
});

const madeKey = (k: UserCheckoutKey) => ({
  fingerprint: k.fingerprint_md5,
  fingerprint_sha256: k.fingerprint_sha256,
  project: `${k.vcs}/${k.account_name}/${k.project_name}`,
  ssh_key_id: k.ssh_key_id,
});
const grantView = (g: { scope: string; title: string; allows: string; granted: boolean; grantedAt: string | null; keys?: UserCheckoutKey[] }) => ({
  scope: g.scope,
  title: g.title,
  allows: g.allows,
  granted: g.granted,
  granted_at: g.grantedAt,
  ...(g.keys ? { keys: g.keys.map(madeKey) } : {}),
});

export const grantRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'grants'> }> = async (app, { services }) => {
  const tags = ['grants'];
  app.get(
    '/v1/user/grants',
    { schema: { tags, summary: 'Your grants: each elevated permission, what it allows, and whether you gave it', response: { 200: Type.Array(Grant), ...errorResponses } } },
    async (request) => (await services.grants.list(contextOf(request))).map(grantView),
  );
  app.put('/v1/user/grants/:scope', { schema: { tags, summary: 'Give one grant', params: ScopeParams, response: { 200: Grant, ...errorResponses } } }, async (request) =>
    grantView(await services.grants.give(contextOf(request), request.params.scope)),
  );
  app.delete(
    '/v1/user/grants/:scope',
    {
      schema: {
        tags,
        summary: 'Revoke one grant; lists the keys made under it, and removes them too with ?remove_keys=true',
        params: ScopeParams,
        querystring: Type.Object({ ...CredentialQuery, remove_keys: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
        response: { 200: Revoked, ...errorResponses },
      },
    },
    async (request) => {
      const revoked = await services.grants.revoke(contextOf(request), request.params.scope, request.query.remove_keys ?? false);
      return { scope: revoked.scope, granted: revoked.granted, removed_keys: revoked.removedKeys, keys: revoked.keys.map(madeKey) };
    },
  );
};
