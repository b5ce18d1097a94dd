// The account SSH CA and its certificates (README: SSH certificates). The CA's public file and KRL are
// public: sshd's TrustedUserCAKeys and RevokedKeys fetch them without a credential.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, headerSelector } from '../../http/auth.ts';
import { projectPathOf, ProjectPathParams } from '../../http/native-params.ts';
import { errorResponses } from '../../http/schemas.ts';
import { AccountPath, AuthorizedPrincipalsQuery, CaKeys, CertificatePath, CertificateRecord, IssuedCertificate, ListQuery, RunnerCertificateBody, UserCertificateBody } from './ssh-ca.schemas.ts';
import type { CaKey, CertificateRecord as Row, SshCaService } from './ssh-ca.service.ts';

const keysView = (keys: CaKey[]) => ({ keys: keys.map((k) => ({ public_key: k.public_key, fingerprint_sha256: k.fingerprint_sha256, state: k.state, created_at: k.created_at })) });

const recordView = (r: Row) => ({
  serial: Number(r.serial),
  account: r.account_name,
  kind: r.kind,
  key_id: r.key_id,
  principals: JSON.parse(r.principals) as string[],
  key_type: r.key_type,
  key_fingerprint_sha256: r.key_fingerprint_sha256,
  ca_fingerprint_sha256: r.ca_fingerprint_sha256,
  valid_after: r.valid_after,
  valid_before: r.valid_before,
  requested_by: r.requested_by,
  created_at: r.created_at,
  revoked_at: r.revoked_at,
  project_id: r.project_id,
});

const issuedView = (c: { serial: number; keyId: string; principals: string[]; validAfter: string; validBefore: string; certificate: string }) => ({
  serial: c.serial,
  key_id: c.keyId,
  principals: c.principals,
  valid_after: c.validAfter,
  valid_before: c.validBefore,
  certificate: c.certificate,
});

const TextFile = (description: string) => ({ content: { 'text/plain': { schema: Type.String({ description }) } } });
const BinaryFile = { content: { 'application/octet-stream': { schema: Type.String({ description: 'An OpenSSH KRL (binary), for sshd’s RevokedKeys.' }) } } };

export const sshCaRoutes: FastifyPluginAsyncTypebox<{ sshCa: SshCaService }> = async (app, { sshCa }) => {
  const tags = ['ssh certificates'];
  const base = '/v1/accounts/:account/ssh-ca';

  app.get(
    base,
    { schema: { tags, summary: "The account's SSH CA keys (made on first use): members and the account's service keys", params: AccountPath, response: { 200: CaKeys, ...errorResponses } } },
    async (request) => keysView(await sshCa.keys(contextOf(request), request.params.account)),
  );

  app.get(
    `${base}.pub`,
    {
      config: { auth: 'none' },
      schema: {
        tags,
        summary: 'The CA public keys sshd trusts (TrustedUserCAKeys), one per line; public',
        params: AccountPath,
        response: { 200: TextFile('CA public key lines.'), ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(await sshCa.publicFile(request.params.account)),
  );

  app.get(
    `${base}/krl`,
    {
      config: { auth: 'none' },
      schema: { tags, summary: 'The OpenSSH KRL of every revoked certificate of the account (for RevokedKeys); public', params: AccountPath, response: { 200: BinaryFile, ...errorResponses } },
    },
    async (request, reply) =>
      reply
        .header('cache-control', 'no-store')
        .type('application/octet-stream')
        .send((await sshCa.krl(request.params.account)) as unknown as string),
  );

  app.get(
    '/v1/ssh/authorized-principals',
    {
      schema: {
        tags,
        summary: "sshd's AuthorizedPrincipalsCommand: the principal line of a certificate of this account that is valid now (ssh_server service keys only)",
        querystring: AuthorizedPrincipalsQuery,
        response: { 200: TextFile('An authorized_principals line ending in a newline, or an empty body.'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { user, serial, ca, mode = 'login', command } = request.query;
      const lines = await sshCa.authorizedPrincipals(contextOf(request), headerSelector(request), { user, serial: Number(serial), ca, mode, command });
      return reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(lines);
    },
  );

  app.post(
    `${base}/rotate`,
    { schema: { tags, summary: 'Make a new active CA key; the old one stays trusted as previous (owner, admin)', params: AccountPath, response: { 201: CaKeys, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(keysView(await sshCa.rotate(contextOf(request), request.params.account))),
  );

  app.delete(
    `${base}/previous`,
    { schema: { tags, summary: 'Stop trusting the previous CA key (owner, admin)', params: AccountPath, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await sshCa.dropPrevious(contextOf(request), request.params.account);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/user/ssh-certificates',
    {
      schema: {
        tags,
        summary: 'A short-lived SSH certificate for one of your own SSH keys, signed by an account’s CA',
        body: UserCertificateBody,
        response: { 201: IssuedCertificate, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { public_key, account, ttl_seconds } = request.body;
      return reply.status(201).send(issuedView(await sshCa.issueUserCertificate(contextOf(request), { publicKey: public_key, account, ttlSeconds: ttl_seconds })));
    },
  );

  app.get(
    '/v1/user/ssh-certificates',
    { schema: { tags, summary: 'Your SSH certificates, newest first', querystring: ListQuery, response: { 200: Type.Array(CertificateRecord), ...errorResponses } } },
    async (request) => (await sshCa.listOwn(contextOf(request), request.query.limit ?? 100)).map(recordView),
  );

  app.post(
    '/v1/projects/:vcs/:account/:name/checkout-certificate',
    {
      schema: {
        tags,
        summary: 'A certificate for a key pair a CI job made itself: read access to this project over SSH (runner keys only)',
        params: Type.Object(ProjectPathParams),
        body: RunnerCertificateBody,
        response: { 201: IssuedCertificate, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { public_key, ttl_seconds } = request.body;
      return reply.status(201).send(issuedView(await sshCa.issueRunnerCertificate(contextOf(request), projectPathOf(request.params), { publicKey: public_key, ttlSeconds: ttl_seconds })));
    },
  );

  app.get(
    '/v1/accounts/:account/ssh-certificates',
    {
      schema: {
        tags,
        summary: 'Every certificate the account’s CA issued, newest first (owner, admin)',
        params: AccountPath,
        querystring: ListQuery,
        response: { 200: Type.Array(CertificateRecord), ...errorResponses },
      },
    },
    async (request) => (await sshCa.listForAccount(contextOf(request), request.params.account, request.query.limit ?? 100)).map(recordView),
  );

  app.delete(
    '/v1/accounts/:account/ssh-certificates/:serial',
    {
      schema: {
        tags,
        summary: 'Revoke a certificate: the online check refuses it at once, and the KRL lists it (its user, owner or admin)',
        params: CertificatePath,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await sshCa.revoke(contextOf(request), request.params.account, Number(request.params.serial));
      return reply.status(204).send(null);
    },
  );
};
