// buildApp: a Fastify instance with every route, never listening. main.ts, the CLI and tests build it.
import { createJobs, type Jobs } from './jobs/jobs.ts';
import { createLifecycle, type Lifecycle } from './lifecycle.ts';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type onResponseHookHandler } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Logger } from 'pino';
import { lazyChildLogger } from './logger.ts';
import type { Config, TrustProxy } from './config.ts';
import { ping } from './db/connect.ts';
import { AppError } from './errors.ts';
import { registerAuth, SAFE_METHODS } from './http/auth.ts';
import { consoleRoutes } from './http/console.ts';
import { errorDocsRoute } from './http/error-docs.ts';
import { sendNativeError } from './http/errors.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createReadiness, readinessRoutes } from './http/readiness.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import { UNMATCHED_ROUTE } from './metrics/metrics.ts';
import { pathRefusal } from './http/control-in-path.ts';
import { createValidatorCompiler } from './http/validation.ts';
import { NativeError } from './http/schemas.ts';
import { circleciRoot, circleciV1, circleciV2 } from './dialects/circleci/circleci.plugin.ts';
import { githubDialect } from './dialects/github/github.plugin.ts';
import { checkoutKeyRoutes } from './modules/checkout-keys/checkout-keys.routes.ts';
import { hostKeyRoutes } from './modules/host-keys/host-keys.routes.ts';
import { policyRoutes } from './modules/policies/policies.routes.ts';
import { webhookRoutes } from './modules/webhooks/webhooks.routes.ts';
import { sshKeyRoutes } from './modules/ssh-keys/ssh-keys.routes.ts';
import { sshAccessRoutes } from './modules/ssh-access/ssh-access.routes.ts';
import { sshCaRoutes } from './modules/ssh-ca/ssh-ca.routes.ts';
import { grantRoutes } from './modules/grants/grants.routes.ts';
import { herokuRoutes } from './modules/integrations/heroku.routes.ts';
import { accountRoutes } from './modules/accounts/accounts.routes.ts';
import { apiKeyRoutes } from './modules/api-keys/api-keys.routes.ts';
import { leakedCredentialRoutes } from './modules/leaked-credentials/leaked-credentials.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { projectRoutes } from './modules/projects/projects.routes.ts';
import { sessionRoutes } from './modules/sessions/sessions.routes.ts';
import { userRoutes } from './modules/users/users.routes.ts';
import { emailNoticeRoutes } from './modules/mail/email-notices.routes.ts';
import type { Services } from './services.ts';

export const BODY_LIMIT = 64 * 1024;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A route's URL pattern (`/v1/projects/:vcs/:account/:name`, `/docs/*`, `/:login.keys`) as a regex over
 * request paths. A parameter may share its segment with static text (`:login.keys`), which must match too.
 */
function routePattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) =>
      segment === '*'
        ? '.*'
        : segment
            .split(/(:[A-Za-z0-9_]+)/)
            .map((part) => (part.startsWith(':') ? '[^/]+' : escapeRegExp(part)))
            .join(''),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Fastify's trustProxy from KEYSMITH_TRUST_PROXY. Fastify ignores a bare hop count (it cannot check the
 * peer), so a count becomes "trust the nearest n hops": the operator who sets it says every connection
 * comes through that many proxies. A list goes to proxy-addr as it is.
 */
function trustProxyOption(trust: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

export interface AppDeps {
  config: Config;
  services: Services;
  logger: Logger;
  /** Where the built console lives; web/dist by default. */
  consoleDir?: string;
  /** Whether the process is stopping (main.ts sets it on SIGTERM); a fresh one by default. */
  lifecycle?: Lifecycle;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The named background jobs of this node (src/jobs/jobs.ts). */
    jobs: Jobs;
    /** `lifecycle.stopping` is true from SIGTERM on, while in-flight requests finish. */
    lifecycle: Lifecycle;
  }
}

export async function buildApp({ config, services, logger, consoleDir, lifecycle }: AppDeps): Promise<FastifyInstance> {
  const requestIdPrefix = randomBytes(6).toString('hex');
  let requestCounter = 0;
  // Fastify's own request lines ("incoming request", "request completed") are at info. Below that
  // level Fastify is given no logger (given one, it listens for the end of every response to write a
  // line the level then drops) and its log controller writes no request lines (it would still build
  // them for request.log to drop). request.log is a child of ours at every level (built only when it writes).
  const logsRequests = logger.isLevelEnabled('info');
  const app = Fastify({
    ...(logsRequests ? { loggerInstance: logger as FastifyBaseLogger } : { logController: new LogController({ disableRequestLogging: true }) }),
    childLoggerFactory: (_parent, bindings, options) => lazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    // A random per-process prefix and a counter: unique across restarts, and cheap per request.
    genReqId: () => `${requestIdPrefix}-${(++requestCounter).toString(36)}`,
    routerOptions: { maxParamLength: 500 },
    // KEYSMITH_TRUST_PROXY: request.ip and request.protocol come from X-Forwarded-For/-Proto set by these proxies.
    trustProxy: trustProxyOption(config.trustProxy),
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
  // Fastify reads text/plain as a string, which then fails as "must be a JSON object"; say instead
  // what to send. An empty text/plain body is no body (some clients send the header on a DELETE).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    return done(new AppError('unsupported_media_type', 'The request body was sent as text/plain, so it is not read as JSON.', 'Send it with Content-Type: application/json.'), undefined);
  });
  // Every answer's default headers (http/security-headers.ts), and the path check: a NUL or another
  // control character in the path is refused before any route looks anything up, the same on both
  // databases (PostgreSQL cannot store a NUL; SQLite would just not find it). Both run first in each
  // route's own onRequest hook (registerAuth, below), so that no request runs a second hook for
  // them; the not-found handlers check the path too, and the error senders set the headers.
  const setSecurityHeaders = securityHeaders({ publicUrl: config.publicUrl });
  app.decorateReply('setDefaultHeaders', function (this: FastifyReply) {
    setSecurityHeaders(this.request, this);
  });
  // Every method each path pattern answers, so a wrong method gets 405 with Allow, not 404.
  const routeTable: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  app.addHook('onRoute', (route) => {
    const pattern = routePattern(route.url);
    let entry = routeTable.find((r) => r.pattern.source === pattern.source);
    if (!entry) routeTable.push((entry = { pattern, methods: new Set() }));
    for (const method of [route.method].flat()) entry.methods.add(method);
  });
  // Before any route: every route gets one hook of its own, the default headers and the path check, then its credential check.
  registerAuth(app, { apiKeys: services.apiKeys, sessions: services.sessions, audit: services.audit, metrics: services.metrics }, (request, reply) => {
    setSecurityHeaders(request, reply);
    return pathRefusal(request.url);
  });
  // Request metrics (a counter and a histogram, labelled by the route's pattern, never the raw URL,
  // which carries logins and key ids) are kept only when GET /metrics can read them: the hook that
  // takes them runs once the response has finished, which costs a listener on every response.
  const { metrics } = services;
  if (config.metricsToken !== undefined) {
    app.addHook('onResponse', (request, reply, done) => {
      metrics.request(request.method, request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE), reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  // Once a change is answered its transaction has committed: start sending the webhook deliveries
  // and email it queued. Only routes that can change something (not GET, HEAD or OPTIONS) queue any;
  // the webhooks.deliver and mail.deliver jobs below send whatever else is due within 5 s.
  const kickQueued: onResponseHookHandler = (_request, _reply, done) => {
    services.webhooks.kickIfQueued();
    services.mail.kickIfQueued();
    done();
  };
  app.addHook('onRoute', (route) => {
    if ([route.method].flat().every((method) => SAFE_METHODS.has(method))) return;
    route.onResponse = route.onResponse === undefined ? [kickQueued] : [...[route.onResponse].flat(), kickQueued];
  });
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
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', validatorUrl: null } });
    errorDocsRoute(docs);
  });

  app.setErrorHandler((err, request, reply) => sendNativeError(request, reply, err, config.publicUrl));
  app.setNotFoundHandler((request, reply) => {
    const refusal = pathRefusal(request.url);
    if (refusal) return sendNativeError(request, reply, refusal, config.publicUrl);
    const path = request.url.split('?')[0]!;
    const allowed = new Set(routeTable.filter((r) => r.pattern.test(path)).flatMap((r) => [...r.methods]));
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(', ');
      return sendNativeError(
        request,
        reply,
        new AppError(
          'method_not_allowed',
          `${request.method} is not allowed on ${path.slice(0, 200)}; it answers ${allow}.`,
          `Use one of ${allow}; see the API description at ${config.publicUrl}/docs.`,
          { extra: { allow } },
        ),
        config.publicUrl,
      );
    }
    return sendNativeError(
      request,
      reply,
      new AppError('not_found', `There is nothing at ${request.method} ${path.slice(0, 200)}.`, `See the API description at ${config.publicUrl}/docs.`),
      config.publicUrl,
    );
  });

  app.get(
    '/healthz',
    { config: { auth: 'none' }, schema: { tags: ['health'], summary: 'Liveness: 200 once the database answers', response: { 200: Type.Object({ status: Type.Literal('ok') }), '5xx': NativeError } } },
    async () => {
      await ping(services.db);
      return { status: 'ok' as const };
    },
  );
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());
  const appLifecycle = lifecycle ?? createLifecycle();
  await app.register(readinessRoutes, { ready: createReadiness({ db: services.db, lifecycle: appLifecycle }) });
  if (config.metricsToken !== undefined) await app.register(metricsRoutes, { metrics, token: config.metricsToken, audit: services.audit });

  // Each door gets only the services it calls.
  await app.register(userRoutes, { services: { users: services.users, passwords: services.passwords }, publicUrl: config.publicUrl });
  await app.register(emailNoticeRoutes, { mailConfigured: config.mail !== undefined });
  await app.register(accountRoutes, { services: { accounts: services.accounts } });
  await app.register(projectRoutes, { services: { projects: services.projects }, publicUrl: config.publicUrl });
  await app.register(leakedCredentialRoutes, { leaks: services.leaks });
  await app.register(apiKeyRoutes, { services: { apiKeys: services.apiKeys, apiKeyRotation: services.apiKeyRotation, apiKeyLifecycle: services.apiKeyLifecycle } });
  await app.register(sessionRoutes, { services: { sessions: services.sessions }, secureCookie: config.publicUrl.startsWith('https:'), onSignedIn: () => metrics.authentication('ok') });
  await app.register(auditRoutes, { services: { auditLog: services.auditLog }, publicUrl: config.publicUrl });
  await app.register(grantRoutes, { services: { grants: services.grants } });
  await app.register(herokuRoutes, { services: { heroku: services.heroku } });
  await app.register(policyRoutes, { policies: services.policies });
  await app.register(webhookRoutes, { webhooks: services.webhooks });
  await app.register(sshKeyRoutes, { sshKeys: services.sshKeys, verification: services.sshKeyVerification, lifecycle: services.sshKeyLifecycle, publicUrl: config.publicUrl });
  await app.register(checkoutKeyRoutes, { checkoutKeys: services.checkoutKeys, publicUrl: config.publicUrl });
  await app.register(hostKeyRoutes, { hostKeys: services.hostKeys });
  await app.register(sshAccessRoutes, { sshAccess: services.sshAccess });
  await app.register(sshCaRoutes, { sshCa: services.sshCa });
  await app.register(githubDialect, { prefix: '/api/v3', services: { sshKeys: services.sshKeys }, publicUrl: config.publicUrl });
  await app.register(circleciV1, { prefix: '/api/v1.1', services: { checkoutKeys: services.checkoutKeys, hostKeys: services.hostKeys, heroku: services.heroku } });
  await app.register(circleciV2, { prefix: '/api/v2', services: { checkoutKeys: services.checkoutKeys } });
  await app.register(circleciRoot, { services: { heroku: services.heroku } });
  await app.register(consoleRoutes, { dir: consoleDir, logger });

  // Background work runs as named jobs (src/jobs/jobs.ts). The flushes write this node's own
  // in-memory buffers, so they run on every node; the session sweep runs once across nodes.
  const jobs = createJobs({ db: services.db, clock: services.clock, logger, onRun: (name, outcome) => metrics.jobRun(name, outcome) });
  jobs.register({ name: 'last_used.flush', scope: 'node', everyMs: config.lastUsedFlushMs, run: () => services.flush() });
  // Refused authentications are counted in memory; a kill -9 loses at most this window of counts.
  jobs.register({ name: 'refused_auth.flush', scope: 'node', everyMs: config.refusedAuthFlushMs, run: () => services.audit.flush() });
  jobs.register({ name: 'sessions.expire', scope: 'once', everyMs: 60 * 60 * 1000, run: () => services.sessions.deleteExpired() });
  // Every node looks for due webhook deliveries; each attempt is claimed by one (webhooks.service.ts).
  jobs.register({ name: 'webhooks.deliver', scope: 'node', everyMs: 5_000, run: async () => void (await services.webhooks.deliverDue()) });
  // Likewise for email (mail.service.ts); sent messages are deleted after 30 days.
  jobs.register({ name: 'mail.deliver', scope: 'node', everyMs: 5_000, run: async () => void (await services.mail.deliverDue()) });
  jobs.register({ name: 'mail.prune', scope: 'once', everyMs: 60 * 60 * 1000, run: async () => void (await services.mail.pruneOld()) });
  // A rotate's sealed new secret lives for its ten-minute replay window only.
  jobs.register({ name: 'api_key_rotation.sweep', scope: 'once', everyMs: 60 * 1000, run: async () => void (await services.apiKeyRotation.sweepReplays()) });
  // Expiry notices and dormant credentials (credential-notices.service.ts), once across nodes; this
  // node's pending uses are written first, so a key used a moment ago is not taken for unused.
  jobs.register({
    name: 'credentials.scan',
    scope: 'once',
    everyMs: 5 * 60 * 1000,
    run: async () => {
      await services.flush();
      await services.credentialNotices.scan();
    },
  });
  jobs.register({ name: 'rate_limits.prune', scope: 'once', everyMs: 10 * 60 * 1000, run: async () => void (await services.rateLimits.prune()) });
  jobs.start();
  app.decorate('jobs', jobs);
  app.decorate('lifecycle', appLifecycle);
  app.addHook('onClose', async () => {
    // Runs under way finish (releasing their locks) before the last flush of the buffers.
    await jobs.stop();
    await services.flush();
    await services.webhooks.close();
    await services.mail.close();
  });
  closeConnectionsAsTheyEnd(app);

  return app;
}

/**
 * Closing waits for the requests in flight, and for nothing else. Fastify's close ends the connections
 * idle at that moment; a keep-alive connection whose request was still running becomes idle later and
 * would hold the server open for its keep-alive time-out (72 s), so until the server has closed, idle
 * connections are dropped as they appear. Browsers also open connections ahead of need and may never
 * send a byte on them; Node counts only connections that have finished a request as idle, and would
 * keep those until their header time-out (60–90 s). Having sent nothing, they carry no request to
 * finish: they are dropped at once. One Set entry per connection, nothing per request.
 */
function closeConnectionsAsTheyEnd(app: FastifyInstance): void {
  const open = new Set<Socket>();
  let closing = false;
  app.server.on('connection', (socket: Socket) => {
    if (closing) return void socket.destroy();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('preClose', (done) => {
    closing = true;
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    if (app.server.listening) {
      const dropIdle = setInterval(() => app.server.closeIdleConnections(), 50);
      app.server.once('close', () => clearInterval(dropIdle));
    }
    done();
  });
}
