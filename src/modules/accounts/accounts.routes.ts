import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { Account, AccountParams, Member, MemberParams, MemberRoleBody, MembershipResult, NewAccountBody } from './accounts.schemas.ts';

export const accountRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'accounts'> }> = async (app, { services }) => {
  const tags = ['accounts'];

  app.get('/v1/accounts', { schema: { tags, summary: 'Accounts the caller belongs to', response: { 200: Type.Array(Account), ...errorResponses } } }, async (request) => {
    const rows = await services.accounts.listMine(contextOf(request));
    return rows.map((r) => ({ name: r.name, role: r.role, created_at: r.created_at }));
  });

  app.post(
    '/v1/accounts',
    { schema: { tags, summary: 'Create an account; the caller becomes its owner', body: NewAccountBody, response: { 201: Account, ...errorResponses } } },
    async (request, reply) => {
      const account = await services.accounts.create(contextOf(request), request.body.name);
      return reply.status(201).send({ name: account.name, role: 'owner', created_at: account.created_at });
    },
  );

  app.delete(
    '/v1/accounts/:account',
    { schema: { tags, summary: 'Delete an account (owners only)', params: AccountParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await services.accounts.deleteAccount(contextOf(request), request.params.account);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/accounts/:account/members',
    { schema: { tags, summary: 'Members and their roles', params: AccountParams, response: { 200: Type.Array(Member), ...errorResponses } } },
    async (request) => {
      const rows = await services.accounts.listMembers(contextOf(request), request.params.account);
      return rows.map((r) => ({ login: r.login, name: r.name, role: r.role, created_at: r.created_at }));
    },
  );

  app.put(
    '/v1/accounts/:account/members/:login',
    { schema: { tags, summary: 'Add a member or change their role', params: MemberParams, body: MemberRoleBody, response: { 200: MembershipResult, 201: MembershipResult, ...errorResponses } } },
    async (request, reply) => {
      const result = await services.accounts.setRole(contextOf(request), request.params.account, request.params.login, request.body.role);
      return reply.status(result.added ? 201 : 200).send({ login: result.user.login, role: result.role });
    },
  );

  app.delete(
    '/v1/accounts/:account/members/:login',
    { schema: { tags, summary: 'Remove a member (or leave)', params: MemberParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await services.accounts.removeMember(contextOf(request), request.params.account, request.params.login);
      return reply.status(204).send(null);
    },
  );
};
