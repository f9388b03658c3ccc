import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REVOCATION_REASONS, type RevocationReason } from './models/session.js';

/** Which API a stream came through. */
export type StreamTransport = 'rest' | 'graphql';

/** Which cap refused a stream (STREAMS_PER_SESSION, STREAMS_PER_USER). */
export type StreamCap = 'session' | 'user';

/** How a sign-in ended: signed in, wrong credentials, or refused by a limit before the password was checked. */
export type SignInOutcome = 'succeeded' | 'failed' | 'refused';

/** What the scrape reads from the running services (set once they exist: src/services.ts). */
export interface MetricSources {
  /** Password checks waiting for a thread of the pool. */
  passwordQueue(): number;
  /** Outbox entries, and when the oldest one came due (null: none is due). */
  outbox(): Promise<{ depth: number; oldestDueAt: number | null }>;
  /** Each dependency, up or not ('embedded' counts as up). */
  dependencies(): Promise<Record<string, boolean>>;
}

const PREFIX = 'logout_all_';

/** Seconds, from a millisecond to ten seconds: delivery and hashing waits. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's Prometheus metrics, on a registry of its own (one per
 * services object, never prom-client's global one: two instances in one test
 * process must not share or clash). Served on METRICS_PORT only
 * (src/http/metrics-server.ts). Everything on a request's or a stream's path is
 * a counter or gauge step, or one histogram observation: no work that grows
 * with the number of streams. What costs a round trip (the outbox, the
 * dependencies) is read when Prometheus scrapes, not before.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Open event streams (each holds a place under the caps), by transport. */
  readonly streamsOpen = new Gauge({
    name: `${PREFIX}streams_open`,
    help: 'Open event streams, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly streamsRefused = new Counter({
    name: `${PREFIX}streams_refused_total`,
    help: 'Event streams refused by a cap (STREAMS_PER_SESSION: session, STREAMS_PER_USER: user)',
    labelNames: ['cap'] as const,
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: `${PREFIX}revocations_total`,
    help: 'Revocations (one per logout, revokeSession or logoutAll call that revoked something), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly sessionsRevoked = new Counter({
    name: `${PREFIX}sessions_revoked_total`,
    help: 'Sessions revoked, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: `${PREFIX}delivery_latency_seconds`,
    help: 'From the publication of a revocation to its write on each stream of this instance',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly signIns = new Counter({
    name: `${PREFIX}sign_ins_total`,
    help: 'Sign-ins (login), by outcome: succeeded, failed (wrong credentials), refused (a rate limit or a full password pool)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly passwordWait = new Histogram({
    name: `${PREFIX}password_wait_seconds`,
    help: 'How long a password hash or check waited for a thread of the pool',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private sources: MetricSources | undefined;

  constructor(options: { defaults: boolean }) {
    // Node's own (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, …): only when served, as they sample the event loop.
    if (options.defaults) collectDefaultMetrics({ register: this.registry });
    // Every known series from the start at 0, so that a rate() sees the first event and a dashboard every series.
    for (const transport of ['rest', 'graphql'] satisfies StreamTransport[]) this.streamsOpen.labels(transport).set(0);
    for (const cap of ['session', 'user'] satisfies StreamCap[]) this.streamsRefused.labels(cap).inc(0);
    for (const reason of REVOCATION_REASONS) {
      this.revocations.labels(reason).inc(0);
      this.sessionsRevoked.labels(reason).inc(0);
    }
    for (const outcome of ['succeeded', 'failed', 'refused'] satisfies SignInOutcome[]) this.signIns.labels(outcome).inc(0);
    const sources = (): MetricSources | undefined => this.sources;
    new Gauge({
      name: `${PREFIX}password_queue_depth`,
      help: 'Password hashes and checks waiting for a thread of the pool',
      registers: [this.registry],
      collect() {
        this.set(sources()?.passwordQueue() ?? 0);
      },
    });
    const outboxDepth = new Gauge({ name: `${PREFIX}outbox_depth`, help: 'Revocations claimed and not yet recorded and announced', registers: [this.registry] });
    new Gauge({
      name: `${PREFIX}outbox_oldest_due_age_seconds`,
      help: 'How long the oldest outbox entry past its grace (REVOCATION_GRACE) has been waiting for a sweeper; 0 when none is',
      registers: [this.registry],
      async collect() {
        const outbox = await sources()?.outbox().catch(() => null);
        if (!outbox) return;
        outboxDepth.set(outbox.depth);
        this.set(outbox.oldestDueAt === null ? 0 : Math.max(0, (Date.now() - outbox.oldestDueAt) / 1000));
      },
    });
    new Gauge({
      name: `${PREFIX}dependency_up`,
      help: 'Each dependency (mongo, redis): 1 when it answers, 0 when not',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        const up = (await sources()?.dependencies()) ?? {};
        for (const [dependency, ok] of Object.entries(up)) this.set({ dependency }, ok ? 1 : 0);
      },
    });
  }

  /** Where the scrape-time gauges read from, once the services exist. */
  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  revoked(reason: RevocationReason, sessions: number): void {
    this.revocations.inc({ reason });
    this.sessionsRevoked.inc({ reason }, sessions);
  }

  /** A revocation published at `publishedAt` (ms since the epoch, the publisher's clock) was written to a stream now. */
  delivered(publishedAt: number | undefined): void {
    if (publishedAt !== undefined) this.deliveryLatency.observe(Math.max(0, Date.now() - publishedAt) / 1000);
  }

  /** The text Prometheus reads. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
