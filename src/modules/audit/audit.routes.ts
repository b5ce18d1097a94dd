import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, headerSelector } from '../../http/auth.ts';
import { PageQuery, pageOf, setLinkHeader } from '../../http/pagination.ts';
import { errorResponses, Nullable, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { auditActions } from './audit.actions.ts';

const AuditEvent = Type.Object({
  id: Type.Integer(),
  occurred_at: Timestamp,
  count: Type.Integer({
    minimum: 1,
    description: 'How many identical events this row stands for: refused authentications are counted per reason, scheme, address and login over a window of at most a second; every other event is 1.',
  }),
  last_occurred_at: Type.Union([Timestamp, Type.Null()], { description: 'When the last of the counted events happened (occurred_at is the first); null for a single event.' }),
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.Integer()), label: Nullable(Type.String()) }),
  action: Type.String(),
  target: Nullable(Type.Object({ type: Type.String(), id: Nullable(Type.String()), label: Nullable(Type.String()) })),
  remote_addr: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  details: Nullable(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
});

const AuditQuery = Type.Object({ ...PageQuery, action: Type.Optional(Type.Enum(auditActions, { description: 'Only events with this action.' })) }, { additionalProperties: false });

type Row = Awaited<ReturnType<Services['auditLog']['listOwn']>>['rows'][number];
const view = (r: Row) => ({
  id: r.id,
  occurred_at: r.occurred_at,
  count: r.count,
  last_occurred_at: r.last_occurred_at,
  actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
  action: r.action,
  target: r.target_type ? { type: r.target_type, id: r.target_id, label: r.target_label } : null,
  remote_addr: r.remote_addr,
  user_agent: r.user_agent,
  details: r.details ?? null,
});

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'auditLog'>; publicUrl: string }> = async (app, { services, publicUrl }) => {
  const tags = ['audit'];

  app.get(
    '/v1/audit-events',
    { schema: { tags, summary: "The selected account's audit trail, newest first (owners and admins)", querystring: AuditQuery, response: { 200: Type.Array(AuditEvent), ...errorResponses } } },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total } = await services.auditLog.listForAccount(contextOf(request), headerSelector(request), request.query.action, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map(view);
    },
  );

  app.get(
    '/v1/user/audit-events',
    {
      schema: {
        tags,
        summary: "The caller's own audit trail, newest first, with the refused sign-ins that tried the caller's login",
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditEvent), ...errorResponses },
      },
    },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total } = await services.auditLog.listOwn(contextOf(request), request.query.action, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map(view);
    },
  );

  app.get(
    '/v1/admin/audit-events',
    {
      schema: {
        tags,
        summary: 'Every event of the instance, refused sign-ins and credentials included, newest first (site admins only)',
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditEvent), ...errorResponses },
      },
    },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total } = await services.auditLog.listAll(contextOf(request), request.query.action, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map(view);
    },
  );
};
