import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, headerSelector } from '../../http/auth.ts';
import { pageOf, setLinkHeader } from '../../http/pagination.ts';
import { errorResponses } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { NewProjectBody, Project, ProjectListQuery, ProjectParams } from './projects.schemas.ts';

export const projectRoutes: FastifyPluginAsyncTypebox<{ services: Pick<Services, 'projects'>; publicUrl: string }> = async (app, { services, publicUrl }) => {
  const tags = ['projects'];
  const view = (p: { vcs: 'gh' | 'bb'; name: string; created_at: string }, account: string) => ({
    slug: `${p.vcs}/${account}/${p.name}`,
    vcs_type: p.vcs,
    account,
    name: p.name,
    url: `${publicUrl}/v1/projects/${p.vcs}/${encodeURIComponent(account)}/${encodeURIComponent(p.name)}`,
    created_at: p.created_at,
  });

  app.get(
    '/v1/projects',
    { schema: { tags, summary: "The selected account's projects", querystring: ProjectListQuery, response: { 200: Type.Array(Project), ...errorResponses } } },
    async (request, reply) => {
      const page = pageOf(request.query);
      const { rows, total, access } = await services.projects.list(contextOf(request), headerSelector(request), page.limit, page.offset);
      setLinkHeader(request, reply, publicUrl, page, total);
      return rows.map((p) => view(p, access.accountName));
    },
  );

  app.post('/v1/projects', { schema: { tags, summary: 'Create a project', body: NewProjectBody, response: { 201: Project, ...errorResponses } } }, async (request, reply) => {
    const { project, access } = await services.projects.create(contextOf(request), headerSelector(request), request.body);
    const body = view(project, access.accountName);
    return reply.status(201).header('location', body.url).send(body);
  });

  app.get('/v1/projects/:vcs/:account/:name', { schema: { tags, summary: 'One project', params: ProjectParams, response: { 200: Project, ...errorResponses } } }, async (request) => {
    const { project, access } = await services.projects.find(contextOf(request), request.params);
    return view(project, access.accountName);
  });

  app.delete(
    '/v1/projects/:vcs/:account/:name',
    { schema: { tags, summary: 'Delete a project', params: ProjectParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await services.projects.remove(contextOf(request), request.params);
      return reply.status(204).send(null);
    },
  );
};
