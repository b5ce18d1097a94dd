// GET, PUT /v1/admin/policy (site admins) and /v1/accounts/{account}/policy (members read; owners and admins change).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { PolicyService } from './policies.service.ts';
import { Type } from 'typebox';
import { PolicyAccountParams, PolicyBody, PolicyView, PolicyViolationView } from './policies.schemas.ts';

export const policyRoutes: FastifyPluginAsyncTypebox<{ policies: PolicyService }> = async (app, { policies }) => {
  const tags = ['policies'];
  const response = { 200: PolicyView, ...errorResponses };
  app.get('/v1/admin/policy', { schema: { tags, summary: "The instance's credential policy (site admins)", response } }, async (request) => policies.getInstance(contextOf(request)));
  app.put('/v1/admin/policy', { schema: { tags, summary: "Replace the instance's credential policy (site admins)", body: PolicyBody, response } }, async (request) =>
    policies.putInstance(contextOf(request), request.body),
  );
  const listed = { 200: Type.Array(PolicyViolationView), ...errorResponses };
  app.get('/v1/admin/policy/violations', { schema: { tags, summary: 'Credentials that break the instance policy (nothing is deleted)', response: listed } }, async (request) =>
    policies.instanceViolations(contextOf(request)),
  );
  app.get(
    '/v1/accounts/:account/policy/violations',
    { schema: { tags, summary: "The account's credentials that break its policy or the instance's (nothing is deleted)", params: PolicyAccountParams, response: listed } },
    async (request) => policies.accountViolations(contextOf(request), request.params.account),
  );
  app.get('/v1/accounts/:account/policy', { schema: { tags, summary: "The account's credential policy (members)", params: PolicyAccountParams, response } }, async (request) =>
    policies.getAccount(contextOf(request), request.params.account),
  );
  app.put(
    '/v1/accounts/:account/policy',
    { schema: { tags, summary: "Replace the account's credential policy (owners, admins)", params: PolicyAccountParams, body: PolicyBody, response } },
    async (request) => policies.putAccount(contextOf(request), request.params.account, request.body),
  );
};
