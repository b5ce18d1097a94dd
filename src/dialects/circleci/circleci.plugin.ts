// CircleCI's key APIs: v1.1 under /api/v1.1 and v2 under /api/v2, so the curl lines of CircleCI's
// docs (host replaced), `circleci-api` (circleHost) and `circle-client` (baseUrl) work unchanged.
// Wire shapes only; every rule lives in the modules.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { contextOf } from '../../http/auth.ts';
import { pathRefusal } from '../../http/control-in-path.ts';
import type { ListedCheckoutKey } from '../../modules/checkout-keys/checkout-keys.service.ts';
import type { ProjectRef } from '../../modules/projects/projects.service.ts';
import type { Services } from '../../services.ts';
import { parseCheckoutKeyType, v1TypeName, v2TypeName } from './checkout-key-types.ts';
import { sendCircleciError } from './circleci.errors.ts';
import {
  CheckoutKeyListV2,
  CheckoutKeyV1,
  CheckoutKeyV2,
  CircleciError,
  circleciErrors,
  DeleteHostKeyBody,
  FingerprintParamsV1,
  HerokuKeyBody,
  HerokuStatus,
  HostKeyCreated,
  NewCheckoutKeyBody,
  NewHostKeyBody,
  Ok,
  ProjectParamsV1,
  SlugFingerprintParams,
  SlugParams,
} from './circleci.schemas.ts';

const v1 = (key: ListedCheckoutKey, vcs: 'gh' | 'bb') => ({
  public_key: key.public_key,
  type: v1TypeName(key.kind, vcs),
  fingerprint: key.fingerprint_md5,
  fingerprint_sha256: key.fingerprint_sha256,
  preferred: key.preferred,
  time: key.created_at,
});

const v2 = (key: ListedCheckoutKey) => ({
  'public-key': key.public_key,
  type: v2TypeName(key.kind),
  fingerprint: key.fingerprint_md5,
  fingerprint_sha256: key.fingerprint_sha256,
  preferred: key.preferred,
  'created-at': key.created_at,
});

/** A v2 project slug, `gh/acme/web` (arrives decoded from `gh%2Facme%2Fweb`). */
function splitSlug(slug: string): ProjectRef {
  const parts = slug.split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new AppError('not_found', `The project slug "${slug.slice(0, 160)}" is not of the form gh/<account>/<project>.`);
  }
  const [vcs, account, name] = parts as [string, string, string];
  return { vcs, account, name };
}

/** What v1.1 and v2 answer for a path they do not have (or one holding a control character). */
function circleciNotFound(request: FastifyRequest, reply: FastifyReply) {
  return sendCircleciError(request, reply, pathRefusal(request.url) ?? new AppError('not_found', 'Not found: this path is not part of the CircleCI-compatible API.'));
}

/** v1.1 and v2 path parameters name the project `project`; the modules call it `name`. */
const refOf = (p: { vcs: string; account: string; project: string }): ProjectRef => ({ vcs: p.vcs, account: p.account, name: p.project });

export const circleciV1: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'checkoutKeys' | 'hostKeys' | 'heroku'> }> = async (app, { services }) => {
  const tags = ['CircleCI-compatible v1.1 (/api/v1.1)'];
  app.addSchema(CircleciError);
  app.setErrorHandler((err, request, reply) => sendCircleciError(request, reply, err));
  app.setNotFoundHandler(circleciNotFound);
  const base = '/project/:vcs/:account/:project';

  app.get(
    `${base}/checkout-key`,
    { schema: { tags, summary: "A project's checkout keys", params: ProjectParamsV1, response: { 200: Type.Array(CheckoutKeyV1), ...circleciErrors } } },
    async (request) => {
      const listed = await services.checkoutKeys.list(contextOf(request), refOf(request.params));
      return listed.keys.map((k) => v1(k, listed.project.vcs));
    },
  );

  app.post(
    `${base}/checkout-key`,
    {
      schema: {
        tags,
        summary: 'Create a checkout key (deploy-key, or github-user-key with your write:public_key grant)',
        params: ProjectParamsV1,
        body: NewCheckoutKeyBody,
        response: { 201: CheckoutKeyV1, ...circleciErrors },
      },
    },
    async (request, reply) => {
      const kind = parseCheckoutKeyType(request.body.type, request.params.vcs);
      const created = await services.checkoutKeys.create(contextOf(request), { project: refOf(request.params), kind, algorithm: request.body.algorithm });
      return reply.status(201).send(v1(created.key, created.project.vcs));
    },
  );

  app.get(`${base}/checkout-key/:fingerprint`, { schema: { tags, summary: 'One checkout key', params: FingerprintParamsV1, response: { 200: CheckoutKeyV1, ...circleciErrors } } }, async (request) => {
    const found = await services.checkoutKeys.get(contextOf(request), refOf(request.params), request.params.fingerprint);
    return v1(found.key, found.project.vcs);
  });

  app.delete(
    `${base}/checkout-key/:fingerprint`,
    { schema: { tags, summary: 'Delete a checkout key (and its public half)', params: FingerprintParamsV1, response: { 200: Ok, ...circleciErrors } } },
    async (request) => {
      await services.checkoutKeys.remove(contextOf(request), refOf(request.params), request.params.fingerprint);
      return { message: 'ok' as const };
    },
  );

  app.post(
    `${base}/ssh-key`,
    { schema: { tags, summary: 'Add an SSH key for a host (empty hostname: every host)', params: ProjectParamsV1, body: NewHostKeyBody, response: { 201: HostKeyCreated, ...circleciErrors } } },
    async (request, reply) => {
      const added = await services.hostKeys.add(contextOf(request), {
        project: refOf(request.params),
        hostname: request.body.hostname,
        privateKey: request.body.private_key,
        expiresAt: request.body.expires_at,
      });
      return reply
        .status(201)
        .send({ hostname: added.hostname, fingerprint: added.fingerprintMd5, fingerprint_sha256: added.fingerprintSha256, public_key: added.publicKey, expires_at: added.expiresAt });
    },
  );

  app.delete(
    `${base}/ssh-key`,
    { schema: { tags, summary: 'Delete an SSH key for a host', params: ProjectParamsV1, body: DeleteHostKeyBody, response: { 200: Ok, ...circleciErrors } } },
    async (request) => {
      await services.hostKeys.remove(contextOf(request), { project: refOf(request.params), hostname: request.body.hostname, fingerprint: request.body.fingerprint });
      return { message: 'ok' as const };
    },
  );

  herokuKeyRoute(app, services, tags);
};

/** CircleCI's docs post the Heroku key to /user/heroku-key at the root as well as under /api/v1.1. */
export const circleciRoot: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'heroku'> }> = async (app, { services }) => {
  app.addSchema(CircleciError);
  app.setErrorHandler((err, request, reply) => sendCircleciError(request, reply, err));
  herokuKeyRoute(app, services, ['CircleCI-compatible v1.1 (/api/v1.1)']);
};

function herokuKeyRoute(app: Parameters<FastifyPluginAsyncTypebox>[0], services: Pick<Services, 'heroku'>, tags: string[]) {
  app.post(
    '/user/heroku-key',
    { schema: { tags, summary: 'Store your Heroku API key (shown afterwards only as its last 4 characters)', body: HerokuKeyBody, response: { 201: HerokuStatus, ...circleciErrors } } },
    async (request, reply) => reply.status(201).send(await services.heroku.set(contextOf(request), request.body.apikey)),
  );
}

export const circleciV2: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'checkoutKeys'> }> = async (app, { services }) => {
  const tags = ['CircleCI-compatible v2 (/api/v2)'];
  app.setErrorHandler((err, request, reply) => sendCircleciError(request, reply, err));
  app.setNotFoundHandler(circleciNotFound);

  // The slug arrives URL-encoded as one segment (circle-client) or as three plain segments (curl).
  for (const shape of ['slug', 'parts'] as const) {
    const base = shape === 'slug' ? '/project/:slug' : '/project/:vcs/:account/:project';
    const params = shape === 'slug' ? SlugParams : ProjectParamsV1;
    const withFingerprint = shape === 'slug' ? SlugFingerprintParams : FingerprintParamsV1;
    const partsOf = (p: Record<string, string>): ProjectRef => (shape === 'slug' ? splitSlug(p.slug!) : { vcs: p.vcs!, account: p.account!, name: p.project! });

    app.get(`${base}/checkout-key`, { schema: { tags, summary: "A project's checkout keys", params, response: { 200: CheckoutKeyListV2, ...circleciErrors } } }, async (request) => {
      const listed = await services.checkoutKeys.list(contextOf(request), partsOf(request.params as Record<string, string>));
      return { items: listed.keys.map(v2), next_page_token: null };
    });

    app.post(
      `${base}/checkout-key`,
      { schema: { tags, summary: 'Create a checkout key (user-key needs your write:public_key grant)', params, body: NewCheckoutKeyBody, response: { 201: CheckoutKeyV2, ...circleciErrors } } },
      async (request, reply) => {
        const p = request.params as Record<string, string>;
        // The type is checked before the slug, as it always was; a malformed slug is then the 404.
        const kind = parseCheckoutKeyType(request.body.type, (shape === 'slug' ? p.slug!.split('/')[0] : p.vcs) ?? '');
        const created = await services.checkoutKeys.create(contextOf(request), { project: partsOf(p), kind, algorithm: request.body.algorithm });
        return reply.status(201).send(v2(created.key));
      },
    );

    app.get(`${base}/checkout-key/:fingerprint`, { schema: { tags, summary: 'One checkout key', params: withFingerprint, response: { 200: CheckoutKeyV2, ...circleciErrors } } }, async (request) => {
      const p = request.params as Record<string, string>;
      return v2((await services.checkoutKeys.get(contextOf(request), partsOf(p), p.fingerprint!)).key);
    });

    app.delete(`${base}/checkout-key/:fingerprint`, { schema: { tags, summary: 'Delete a checkout key', params: withFingerprint, response: { 200: Ok, ...circleciErrors } } }, async (request) => {
      const p = request.params as Record<string, string>;
      await services.checkoutKeys.remove(contextOf(request), partsOf(p), p.fingerprint!);
      return { message: 'ok' as const };
    });
  }
};
