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

/** A request series' counts in plain numbers: the hot path adds to these, a scrape reads them. */
interface RequestSeries {
  readonly labels: { method: string; route: string; status_code: string };
  /** Answered requests not yet added to the prom-client counter (added on scrape). */
  pending: number;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative), one per upper bound. */
  readonly buckets: Float64Array;
}

/**
 * keysmith_http_request_duration_seconds, in the same text as a prom-client Histogram. prom-client's
 * observe() builds a label object and hashes it on every call (about a microsecond, more than the
 * rest of the metrics work of a request); this one reads the series' plain numbers when scraped.
 * The registry needs only name, help, type, aggregator, get() and reset() of a metric.
 */
class RequestDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: Map<string, RequestSeries>;
  readonly #bounds: readonly number[];
  constructor(
    readonly name: string,
    readonly help: string,
    bounds: readonly number[],
    series: Map<string, RequestSeries>,
  ) {
    this.#bounds = bounds;
    this.#series = series;
  }

  async get() {
    const bucketName = `${this.name}_bucket`;
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += series.buckets[i]!;
        values.push({ labels: { le: this.#bounds[i]!, ...series.labels }, value: cumulative, metricName: bucketName });
      }
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucketName });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const series of this.#series.values()) {
      series.count = 0;
      series.sum = 0;
      series.buckets.fill(0);
    }
  }
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics() {
  const registry = new Registry();
  // Every answered request's series; a bounded set (routes × methods × statuses).
  const perRequest = new Map<string, RequestSeries>();
  // The hot path's counts are plain numbers (prom-client's inc() hashes its labels each time); each
  // counter adds what accumulated when it is scraped.
  let authOkPending = 0;
  let cacheHitPending = 0;
  let cacheMissPending = 0;
  new Counter({
    name: `${METRICS_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by method, route pattern ("unmatched" when no route matched) and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
    collect() {
      for (const series of perRequest.values()) {
        if (series.pending === 0) continue;
        this.inc(series.labels, series.pending);
        series.pending = 0;
      }
    },
  });
  registry.registerMetric(
    new RequestDurations(
      `${METRICS_PREFIX}http_request_duration_seconds`,
      'Time from receiving a request to sending its response, by method, route pattern and status code.',
      DURATION_BUCKETS,
      perRequest,
    ) as unknown as Histogram,
  );
  const authentications = new Counter({
    name: `${METRICS_PREFIX}authentications_total`,
    help: 'Credential checks: outcome "ok", or the reason code of a refusal (unknown_key, expired, wrong_login_or_password, …).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      if (authOkPending === 0) return;
      this.inc({ outcome: 'ok' }, authOkPending);
      authOkPending = 0;
    },
  });
  new Counter({
    name: `${METRICS_PREFIX}credential_cache_lookups_total`,
    help: 'API-key look-ups in the in-memory credential cache: result "hit" (no database read) or "miss".',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      if (cacheHitPending > 0) this.inc({ result: 'hit' }, cacheHitPending);
      if (cacheMissPending > 0) this.inc({ result: 'miss' }, cacheMissPending);
      cacheHitPending = cacheMissPending = 0;
    },
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
  let collectingProcess = false;

  return {
    registry,
    /** One answered request; `seconds` from Fastify's reply.elapsedTime. */
    request(method: string, route: string, statusCode: number, seconds: number): void {
      const key = `${method} ${statusCode} ${route}`;
      let series = perRequest.get(key);
      if (series === undefined) {
        series = { labels: { method, route, status_code: String(statusCode) }, pending: 0, count: 0, sum: 0, buckets: new Float64Array(DURATION_BUCKETS.length) };
        perRequest.set(key, series);
      }
      series.pending++;
      series.count++;
      series.sum += seconds;
      // Past the last bound only +Inf (the count) holds it.
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        if (seconds <= DURATION_BUCKETS[i]!) {
          series.buckets[i]!++;
          break;
        }
      }
    },
    /** `ok`, or the reason code of a refused credential. */
    authentication(outcome: string): void {
      if (outcome === 'ok') authOkPending++;
      else authentications.labels(clip(outcome)).inc();
    },
    credentialCache: {
      hit: () => {
        cacheHitPending++;
      },
      miss: () => {
        cacheMissPending++;
      },
    },
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
