// GitHub-style pagination (per_page, page, Link header), used by every list that can grow.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';

/** The credential may come as ?circle-token= on any route (README: the native API); lists must accept it. */
export const CredentialQuery = { 'circle-token': Type.Optional(Type.String({ maxLength: 512, description: 'An API key, for clients that can only send it this way.' })) };

export const PageQuery = {
  ...CredentialQuery,
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 30, description: 'Items per page (at most 100).' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number, from 1.' })),
};

export interface Page {
  perPage: number;
  page: number;
  limit: number;
  offset: number;
}

export function pageOf(query: { per_page?: number; page?: number }): Page {
  const perPage = query.per_page ?? 30;
  const page = query.page ?? 1;
  return { perPage, page, limit: perPage, offset: (page - 1) * perPage };
}

/** Sets `Link` (next, prev, first, last where they apply) unless one page holds everything. */
export function setLinkHeader(request: FastifyRequest, reply: FastifyReply, publicUrl: string, page: Page, total: number): void {
  const last = Math.max(1, Math.ceil(total / page.perPage));
  reply.header('x-total-count', String(total));
  if (last === 1 && page.page === 1) return;
  const url = new URL(request.url, publicUrl);
  url.searchParams.delete('circle-token');
  const link = (n: number, rel: string) => {
    url.searchParams.set('page', String(n));
    url.searchParams.set('per_page', String(page.perPage));
    return `<${publicUrl}${url.pathname}${url.search}>; rel="${rel}"`;
  };
  const parts: string[] = [];
  if (page.page < last) parts.push(link(page.page + 1, 'next'), link(last, 'last'));
  if (page.page > 1) parts.push(link(1, 'first'), link(Math.min(page.page - 1, last), 'prev'));
  reply.header('link', parts.join(', '));
}
