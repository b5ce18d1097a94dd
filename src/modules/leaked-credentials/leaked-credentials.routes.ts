import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../http/schemas.ts';
import type { LeakReportService } from './leaked-credentials.service.ts';
import { LEAK_REPORT_ACCEPTED, LeakReportAccepted, LeakReportBody } from './leaked-credentials.schemas.ts';

export const leakedCredentialRoutes: FastifyPluginAsyncTypebox<{ leaks: LeakReportService }> = async (app, { leaks }) => {
  app.post(
    '/v1/credentials/revoke',
    {
      // Anyone who finds a key (a secret scanner, a stranger) may report it; no credential is read.
      config: { auth: 'none' },
      // Counted before the body is validated, so every readable request from an address counts.
      preValidation: async (request) => leaks.admit(request.ip),
      schema: {
        tags: ['api-keys'],
        summary: 'Report leaked credentials: every Keysmith API key among them is revoked (no credential needed; always the same 202)',
        body: LeakReportBody,
        response: { 202: LeakReportAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      await leaks.report({ anonymous: true, remoteAddr: request.ip, userAgent: request.headers['user-agent'] ?? null }, request.body.credentials);
      return reply.status(202).send(LEAK_REPORT_ACCEPTED);
    },
  );
};
