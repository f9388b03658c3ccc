import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Models } from '../models/index.js';
import { op } from '../models/session.js';
import type { WebhookRecord } from '../models/webhook.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { passwordFingerprint } from './events.js';
import { webhookHeaders } from './signing.js';
import { RELEASE_LEASE_SCRIPT, RENEW_LEASE_SCRIPT } from '../redis-scripts.js';

/**
 * Sending the webhook outbox (src/webhooks/outbox.ts), from the delivery job
 * (src/jobs.ts), never from a request: a receiver that fails or hangs costs
 * sign-ins and revocations nothing.
 *
 * Each user's events go to each endpoint in order, one at a time: the queue of
 * (user, endpoint) is worked by whoever holds its lease in Redis, and its head
 * (lowest seq) must be answered 2xx, or given up on, before the next is sent.
 * A failing head is retried with exponential backoff and jitter, and holds up
 * only its own queue. At least once: an event is removed after its 2xx, so a
 * crash in between sends it again, with the same `webhook-id`.
 *
 * The caps (docs/operations.md, "Webhooks"):
 */
/** Attempts per event before it is given up (logged as an error, and removed). */
export const MAX_ATTEMPTS = 15;
/** The longest wait between two attempts. */
export const MAX_DELAY_MS = 3_600_000;
/** An event still in the outbox after this long is given up, attempted or not. */
export const MAX_AGE_MS = 3 * 86_400_000;
/** Events the outbox holds at most: past it, the oldest are given up. */
export const MAX_OUTBOX = 100_000;
/** How long a receiver has to answer one attempt. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Queues this instance works at once. */
export const CONCURRENCY = 8;
/** How often the job looks for due events. */
export const POLL_MS = 1_000;

/** Events sent from one queue before it is left to the next run (other queues get their turn). */
const PER_TURN = 20;
const DUE_BATCH = 200;
const LEASE_MS = 3 * REQUEST_TIMEOUT_MS;
/** An unconfirmed event whose change has not happened is checked again until it is this many bases old, then dropped. */
const PENDING_CHECKS = 20;

/** The wait before attempt `attempts + 1`: base × 2^(attempts − 1), capped, the second half of it random ("equal jitter"). */
export function retryDelayMs(baseMs: number, attempts: number): number {
  const full = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(full / 2 + Math.random() * (full / 2));
}

export interface DeliveryDeps {
  models: Pick<Models, 'Webhook' | 'Session' | 'User'>;
  redis: RedisClient | null;
  log: Logger;
  urls: readonly string[];
  secret: Buffer;
  retryBaseMs: number;
}

export interface Delivery {
  /** One pass: the caps applied, and the due queues started (up to CONCURRENCY at once); does not wait for them. */
  run(): Promise<number>;
  /** Waits for the queues in progress (tests). */
  idle(): Promise<void>;
  /**
   * Shutdown: no new attempt, the ones in flight aborted (not counted: they go
   * again, with the same id, from whichever instance runs next), then `idle`.
   */
  stop(): Promise<void>;
}

interface Lock {
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

const endpointIdOf = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

export function createDelivery(deps: DeliveryDeps): Delivery {
  const { models, redis, log, urls, secret, retryBaseMs } = deps;
  // The queues this instance is working now; the lease keeps other instances off them.
  const working = new Map<string, Promise<void>>();
  const localLocks = new Set<string>();
  const stopping = new AbortController();

  async function lock(userId: string, endpoint: string): Promise<Lock | null> {
    const key = redisKeys.webhookLease(userId, endpointIdOf(endpoint));
    if (!redis) {
      if (localLocks.has(key)) return null;
      localLocks.add(key);
      return { renew: async () => true, release: async () => void localLocks.delete(key) };
    }
    const holder = randomUUID();
    if ((await redis.set(key, holder, 'PX', LEASE_MS, 'NX')) !== 'OK') return null;
    return {
      renew: async () => Number(await redis.eval(RENEW_LEASE_SCRIPT, 1, key, holder, LEASE_MS)) === 1,
      release: async () => void (await redis.eval(RELEASE_LEASE_SCRIPT, 1, key, holder)),
    };
  }

  /** One attempt; null for a 2xx, else what went wrong ('stopped': cut short by shutdown). */
  async function send(event: WebhookRecord): Promise<string | null> {
    try {
      const response = await fetch(event.endpoint, {
        method: 'POST',
        headers: webhookHeaders(secret, event.msgId, event.body),
        body: event.body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), stopping.signal]),
      });
      await response.body?.cancel().catch(() => {});
      return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
    } catch (error) {
      if (stopping.signal.aborted) return 'stopped';
      return (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message;
    }
  }

  /**
   * Whether the change an unconfirmed event announces happened (its caller died
   * between the two, or its confirmation failed; src/webhooks/outbox.ts `intend`).
   */
  async function happened(event: WebhookRecord): Promise<boolean> {
    const [kind = '', value = ''] = (event.pending ?? '').split(/:(.*)/s);
    if (kind === 'session') return (await models.Session.exists({ sessionId: value })) !== null;
    if (kind === 'password') {
      const user = await models.User.findById(event.userId).select('+password').lean();
      return user !== null && passwordFingerprint(user.password) === value;
    }
    if (kind === 'blocked') return (await models.User.findById(event.userId).lean())?.blockedAt?.getTime() === Number(value);
    return false;
  }

  /** The events of a queue behind its head wait for it: none is due before `dueAt`. */
  async function holdBehind(userId: string, endpoint: string, dueAt: Date): Promise<void> {
    await models.Webhook.updateMany({ userId, endpoint, dueAt: op({ $lt: dueAt }) }, { $set: { dueAt } });
  }

  /** Sends the head of one queue, then the next, while they succeed (PER_TURN at most). */
  async function work(userId: string, endpoint: string): Promise<void> {
    const held = await lock(userId, endpoint);
    if (!held) return;
    try {
      for (let sent = 0; sent < PER_TURN; sent += 1) {
        if (stopping.signal.aborted || (sent > 0 && !(await held.renew()))) return;
        const head = await models.Webhook.findOne({ userId, endpoint }).sort({ seq: 1 }).lean();
        if (!head) return;
        if (head.dueAt.getTime() > Date.now()) {
          // The head waits for its retry: so do the events behind it, off the due list until then.
          await holdBehind(userId, endpoint, head.dueAt);
          return;
        }
        const about = { msgId: head.msgId, type: head.type, userId, endpoint: endpointIdOf(endpoint) };
        if (head.pending !== null) {
          if (!(await happened(head))) {
            if (Date.now() - head.createdAt.getTime() < PENDING_CHECKS * retryBaseMs) {
              // Maybe still under way: asked again later, the events behind it waiting too.
              const dueAt = new Date(Date.now() + retryBaseMs);
              await models.Webhook.updateOne({ _id: head._id }, { $set: { dueAt } });
              await holdBehind(userId, endpoint, dueAt);
              return;
            }
            log.warn(about, 'webhook dropped: the change it announced did not happen');
            await models.Webhook.deleteOne({ _id: head._id });
            continue;
          }
          await models.Webhook.updateOne({ _id: head._id }, { $set: { pending: null } });
        }
        const failure = await send(head);
        if (failure === 'stopped') return;
        const attempts = head.attempts + 1;
        if (failure === null) {
          await models.Webhook.deleteOne({ _id: head._id });
          continue;
        }
        const context = { ...about, attempts, err: failure };
        if (attempts >= MAX_ATTEMPTS) {
          log.error(context, 'webhook given up after its last attempt');
          await models.Webhook.deleteOne({ _id: head._id });
          continue;
        }
        const dueAt = new Date(Date.now() + retryDelayMs(retryBaseMs, attempts));
        log.warn({ ...context, retryAt: dueAt.toISOString() }, 'webhook attempt failed; retried later');
        await models.Webhook.updateOne({ _id: head._id }, { $set: { attempts, dueAt } });
        await holdBehind(userId, endpoint, dueAt);
        return;
      }
      // A turn's worth sent and more waiting: the rest go to the back of the due list, so that
      // the other queues come first at the next run (a logoutAll of many sessions is many events).
      await models.Webhook.updateMany({ userId, endpoint }, { $set: { dueAt: new Date() } });
    } finally {
      await held.release().catch(() => {});
    }
  }

  /** The caps on the outbox's age and size: what is past them is given up, and said so. */
  async function applyCaps(): Promise<void> {
    const old = await models.Webhook.deleteMany({ createdAt: op({ $lt: new Date(Date.now() - MAX_AGE_MS) }) });
    if (old.deletedCount > 0) log.error({ count: old.deletedCount }, 'webhooks given up: older than the outbox keeps them');
    const over = (await models.Webhook.estimatedDocumentCount()) - MAX_OUTBOX;
    if (over > 0) {
      const oldest = await models.Webhook.find({}, { _id: 1 }).sort({ createdAt: 1 }).limit(Math.min(over, 1000)).lean();
      const dropped = await models.Webhook.deleteMany({ _id: op({ $in: oldest.map((o) => o._id) }) });
      log.error({ count: dropped.deletedCount }, 'webhooks given up: the outbox is full');
    }
  }

  async function idle(): Promise<void> {
    while (working.size > 0) await Promise.all(working.values());
  }

  return {
    async run() {
      if (stopping.signal.aborted) return 0;
      await applyCaps();
      const due = await models.Webhook.find({ dueAt: op({ $lte: new Date() }), endpoint: op({ $in: [...urls] }) }, { userId: 1, endpoint: 1 })
        .sort({ dueAt: 1 })
        .limit(DUE_BATCH)
        .lean();
      let started = 0;
      for (const { userId, endpoint } of due) {
        const queue = `${userId} ${endpoint}`;
        if (working.has(queue)) continue;
        if (working.size >= CONCURRENCY) break;
        const done = work(userId, endpoint)
          .catch((error: unknown) => log.warn({ err: (error as Error).message, userId }, 'webhook delivery interrupted; retried at the next run'))
          .finally(() => working.delete(queue));
        working.set(queue, done);
        started += 1;
      }
      return started;
    },
    idle,
    async stop() {
      stopping.abort();
      await idle();
    },
  };
}
