import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
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

type AuditPage = { rows: Row[]; total: number };
type AuditQueryValue = { action?: (typeof auditActions)[number] | undefined; per_page?: number | undefined; page?: number | undefined };

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'auditLog'>; publicUrl: string }> = async (app, { services, publicUrl }) => {
  const tags = ['audit'];
  // The three trails differ only in who may read them and which rows they hold: one shape, one paging.
  const trail = (url: string, summary: string, list: (request: FastifyRequest, action: AuditQueryValue['action'], limit: number, offset: number) => Promise<AuditPage>) =>
    app.get(url, { schema: { tags, summary, querystring: AuditQuery, response: { 200: Type.Array(AuditEvent), ...errorResponses } } }, async (request, reply) => {
      const query = request.query as AuditQueryValue;
      const page = pageOf(query);
      const { rows, total } = await list(request, query.action, page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map(view);
    });

  trail('/v1/audit-events', "The selected account's audit trail, newest first (owners and admins)", (request, action, limit, offset) =>
    services.auditLog.listForAccount(contextOf(request), headerSelector(request), action, limit, offset),
  );
  trail('/v1/user/audit-events', "The caller's own audit trail, newest first, with the refused sign-ins that tried the caller's login", (request, action, limit, offset) =>
    services.auditLog.listOwn(contextOf(request), action, limit, offset),
  );
  trail('/v1/admin/audit-events', 'Every event of the instance, refused sign-ins and credentials included, newest first (site admins only)', (request, action, limit, offset) =>
    services.auditLog.listAll(contextOf(request), action, limit, offset),
  );
};
