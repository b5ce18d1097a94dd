// buildApp: a Fastify instance with every route, never listening. main.ts, the CLI and tests build it.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Logger } from 'pino';
import { lazyChildLogger } from './logger.ts';
import type { Config } from './config.ts';
import { ping } from './db/connect.ts';
import { AppError } from './errors.ts';
import { registerAuth } from './http/auth.ts';
import { consoleRoutes } from './http/console.ts';
import { sendNativeError } from './http/errors.ts';
import { createValidatorCompiler } from './http/validation.ts';
import { NativeError } from './http/schemas.ts';
import { circleciRoot, circleciV1, circleciV2 } from './dialects/circleci/circleci.plugin.ts';
import { githubDialect } from './dialects/github/github.plugin.ts';
import { projectKeyRoutes } from './modules/checkout-keys/checkout-keys.routes.ts';
import { grantRoutes } from './modules/grants/grants.routes.ts';
import { herokuRoutes } from './modules/integrations/heroku.routes.ts';
import { accountRoutes } from './modules/accounts/accounts.routes.ts';
import { apiKeyRoutes } from './modules/api-keys/api-keys.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { projectRoutes } from './modules/projects/projects.routes.ts';
import { sessionRoutes } from './modules/sessions/sessions.routes.ts';
import { userRoutes } from './modules/users/users.routes.ts';
import type { Services } from './services.ts';

export const BODY_LIMIT = 64 * 1024;

export interface AppDeps {
  config: Config;
  services: Services;
  logger: Logger;
  /** Where the built console lives; web/dist by default. */
  consoleDir?: string;
}

export async function buildApp({ config, services, logger, consoleDir }: AppDeps): Promise<FastifyInstance> {
  const requestIdPrefix = randomBytes(6).toString('hex');
  let requestCounter = 0;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    childLoggerFactory: (parent, bindings, options) => lazyChildLogger(parent as Logger, bindings, options) as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    // A random per-process prefix and a counter: unique across restarts, and cheap per request.
    genReqId: () => `${requestIdPrefix}-${(++requestCounter).toString(36)}`,
    routerOptions: { maxParamLength: 500 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  // Some clients (circle-client among them) send Content-Type: application/json on a DELETE with no
  // body; treat an empty body as no body rather than as broken JSON. Anything else: Fastify's parser.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });
  // Before any route: every route registered from here on gets its credential check.
  registerAuth(app, { apiKeys: services.apiKeys, sessions: services.sessions, audit: services.audit });
  app.addSchema(NativeError);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Keysmith',
        version: '0.1.0',
        description: 'Keys for people and machines: user and service API keys, accounts, roles and projects (native /v1 API).',
      },
      servers: [{ url: config.publicUrl }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A ksu_ (user) or kss_ (service) API key.' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(async (docs) => {
    // The readable docs are public, like /openapi.json.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'none' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  });

  app.setErrorHandler((err, request, reply) => sendNativeError(request, reply, err, config.publicUrl));
  app.setNotFoundHandler((request, reply) =>
    sendNativeError(request, reply, new AppError('not_found', `There is nothing at ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}.`, `See the API description at ${config.publicUrl}/docs.`), config.publicUrl),
  );

  app.get('/healthz', { config: { auth: 'none' }, schema: { tags: ['health'], summary: 'Liveness: 200 once the database answers', response: { 200: Type.Object({ status: Type.Literal('ok') }), '5xx': NativeError } } }, async () => {
    await ping(services.db);
    return { status: 'ok' as const };
  });
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());

  // Each door gets only the services it calls.
  await app.register(userRoutes, { services: { users: services.users } });
  await app.register(accountRoutes, { services: { accounts: services.accounts } });
  await app.register(projectRoutes, { services: { projects: services.projects }, publicUrl: config.publicUrl });
  await app.register(apiKeyRoutes, { services: { apiKeys: services.apiKeys } });
  await app.register(sessionRoutes, { services: { sessions: services.sessions }, secureCookie: config.publicUrl.startsWith('https:') });
  await app.register(auditRoutes, { services: { auditLog: services.auditLog }, publicUrl: config.publicUrl });
  await app.register(grantRoutes, { services: { grants: services.grants } });
  await app.register(herokuRoutes, { services: { heroku: services.heroku } });
  await app.register(projectKeyRoutes, { services: { checkoutKeys: services.checkoutKeys, hostKeys: services.hostKeys } });
  await app.register(githubDialect, { prefix: '/api/v3', services: { sshKeys: services.sshKeys }, publicUrl: config.publicUrl });
  await app.register(circleciV1, { prefix: '/api/v1.1', services: { checkoutKeys: services.checkoutKeys, hostKeys: services.hostKeys, heroku: services.heroku } });
  await app.register(circleciV2, { prefix: '/api/v2', services: { checkoutKeys: services.checkoutKeys } });
  await app.register(circleciRoot, { services: { heroku: services.heroku } });
  await app.register(consoleRoutes, { dir: consoleDir });

  const flushTimer = setInterval(() => {
    services.flush().catch((err: unknown) => logger.error({ err }, 'flushing last-used times and audit queue failed'));
  }, config.lastUsedFlushMs);
  flushTimer.unref();
  const sweepTimer = setInterval(() => {
    services.sessions.deleteExpired().catch((err: unknown) => logger.error({ err }, 'deleting expired sessions failed'));
  }, 60 * 60 * 1000);
  sweepTimer.unref();
  app.addHook('onClose', async () => {
    clearInterval(flushTimer);
    clearInterval(sweepTimer);
    await services.flush();
  });

  return app;
}
