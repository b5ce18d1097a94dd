// What GET /metrics shows, in Prometheus' text format: one Registry per app instance (tests build many
// apps in one process, and the global registry would mix them). Every label value comes from a
// closed set the code chooses — a route pattern, a status code, a reason code, a job name — never from
// a login, a key, an account or an address.
//
//   const metrics = createMetrics();
//   metrics.request('GET', '/v1/projects', 200, 0.004);   // the one onResponse hook (app.ts)
//   metrics.authentication('ok');                         // or a refusal's reason code
//   metrics.credentialCache.hit();                        // api-keys/credential-cache.ts
//   metrics.sshLookup('git', 'key');                      // ssh-access.service.ts
//   metrics.jobRun('sessions.expire', 'ran');             // jobs/jobs.ts
//   metrics.webhookDelivery('delivered');                 // webhooks.service.ts, per attempt
//   metrics.mailSent('sent');                             // mail.service.ts, per attempt
//   metrics.collectProcessFigures();                      // only when /metrics is on
//   await metrics.text();
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const METRICS_PREFIX = 'keysmith_';

/** The route label of a request that matched no route (404 and 405 answers of the not-found handler). */
export const UNMATCHED_ROUTE = 'unmatched';

export type SshLookupMode = 'login' | 'git' | 'authorize';
/** `key`/`none`: an authorized_keys line was / was not given; `allowed`/`denied`: an authorize decision. */
export type SshLookupOutcome = 'key' | 'none' | 'allowed' | 'denied';
export type JobOutcome = 'ran' | 'skipped' | 'failed';
export type WebhookOutcome = 'delivered' | 'failed' | 'gave_up';
export type MailOutcome = 'sent' | 'failed' | 'gave_up';

// Label values stay short even if a caller passes something long by mistake (a reason code is ≤ 64).
const clip = (value: string): string => (value.length > 64 ? value.slice(0, 64) : value);

export function createMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: `${METRICS_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by method, route pattern ("unmatched" when no route matched) and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: `${METRICS_PREFIX}http_request_duration_seconds`,
    help: 'Time from receiving a request to sending its response, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const authentications = new Counter({
    name: `${METRICS_PREFIX}authentications_total`,
    help: 'Credential checks: outcome "ok", or the reason code of a refusal (unknown_key, expired, wrong_login_or_password, …).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: `${METRICS_PREFIX}credential_cache_lookups_total`,
    help: 'API-key look-ups in the in-memory credential cache: result "hit" (no database read) or "miss".',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const sshLookups = new Counter({
    name: `${METRICS_PREFIX}ssh_lookups_total`,
    help: "SSH servers' questions: mode login or git (authorized-keys; outcome key or none) or authorize (outcome allowed or denied).",
    labelNames: ['mode', 'outcome'] as const,
    registers: [registry],
  });
  const jobRuns = new Counter({
    name: `${METRICS_PREFIX}job_runs_total`,
    help: 'Background job runs on this node, by job name and outcome (ran, skipped because another node held it, failed).',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: `${METRICS_PREFIX}webhook_deliveries_total`,
    help: 'Webhook delivery attempts, by outcome (delivered, failed, gave_up).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const mailAttempts = new Counter({
    name: `${METRICS_PREFIX}mail_sent_total`,
    help: 'Email attempts to people about their own credentials, by outcome (sent, failed and to be retried, gave_up).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // The hot path's children, bound once.
  const cacheHit = cacheLookups.labels('hit');
  const cacheMiss = cacheLookups.labels('miss');
  const authOk = authentications.labels('ok');
  const perRequest = new Map<string, { count: { inc(): void }; duration: { observe(value: number): void } }>();
  let collectingProcess = false;

  return {
    registry,
    /** One answered request; `seconds` from Fastify's reply.elapsedTime. */
    request(method: string, route: string, statusCode: number, seconds: number): void {
      // prom-client hashes the label values on every labels() call; the children are kept per
      // combination instead (routes × methods × statuses: a bounded set).
      const key = `${method} ${statusCode} ${route}`;
      let series = perRequest.get(key);
      if (series === undefined) {
        const status = String(statusCode);
        series = { count: requests.labels(method, route, status), duration: durations.labels(method, route, status) };
        perRequest.set(key, series);
      }
      series.count.inc();
      series.duration.observe(seconds);
    },
    /** `ok`, or the reason code of a refused credential. */
    authentication(outcome: string): void {
      if (outcome === 'ok') authOk.inc();
      else authentications.labels(clip(outcome)).inc();
    },
    credentialCache: { hit: () => cacheHit.inc(), miss: () => cacheMiss.inc() },
    sshLookup(mode: SshLookupMode, outcome: SshLookupOutcome): void {
      sshLookups.labels(mode, outcome).inc();
    },
    jobRun(job: string, outcome: JobOutcome): void {
      jobRuns.labels(clip(job), outcome).inc();
    },
    webhookDelivery(outcome: WebhookOutcome): void {
      webhookDeliveries.labels(outcome).inc();
    },
    mailSent(outcome: MailOutcome): void {
      mailAttempts.labels(outcome).inc();
    },
    /** The process's own figures (CPU, memory, event loop, GC, handles), prefixed keysmith_; once. */
    collectProcessFigures(): void {
      if (collectingProcess) return;
      collectingProcess = true;
      collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
    },
    contentType: registry.contentType,
    text: (): Promise<string> => registry.metrics(),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
