// GET /metrics: Prometheus text, only with `Authorization: Bearer <KEYSMITH_METRICS_TOKEN>`. Registered
// only when that token is set, so without it the path is a plain 404. The token is its own credential,
// not an API key: API keys and console sessions are refused here like any other wrong token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { errorResponses } from '../http/schemas.ts';
import type { AuditService } from '../modules/audit/audit.service.ts';
import type { Metrics } from './metrics.ts';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether `presented` is the token, in time that does not depend on where they differ (both are hashed to 32 bytes first). */
export function tokenMatches(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token));
}

const REMEDY = 'Send Authorization: Bearer <the value of KEYSMITH_METRICS_TOKEN> (configure your Prometheus scrape job with it as its bearer token).';

export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: Metrics; token: string; audit: Pick<AuditService, 'refusedAuthentication'> }> = async (app, { metrics, token, audit }) => {
  metrics.collectProcessFigures();
  app.get(
    '/metrics',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text format), with Authorization: Bearer <KEYSMITH_METRICS_TOKEN>; absent when that is unset',
        response: { 200: Type.String(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const header = request.headers.authorization;
      if (!header) throw new AppError('credentials_required', 'GET /metrics needs the metrics token.', REMEDY);
      const space = header.indexOf(' ');
      const scheme = space === -1 ? header : header.slice(0, space);
      const presented = space === -1 ? '' : header.slice(space + 1).trim();
      if (scheme.toLowerCase() !== 'bearer' || presented.length > 512 || !tokenMatches(presented, token)) {
        audit.refusedAuthentication({ reason: 'metrics_token_wrong', scheme: 'metrics', remoteAddr: request.ip, userAgent: request.headers['user-agent'] ?? null, login: null });
        throw new AppError('token_invalid', 'The metrics token is wrong: GET /metrics takes only the token set in KEYSMITH_METRICS_TOKEN, not an API key.', REMEDY);
      }
      return reply
        .header('cache-control', 'no-store')
        .type(metrics.contentType)
        .send(await metrics.text());
    },
  );
};
