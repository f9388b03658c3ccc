import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Models } from '../models/index.js';
import { isDuplicateKey } from '../models/errors.js';
import { op } from '../models/session.js';
import type { WebhookRecord } from '../models/webhook.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';

/** What the server POSTs (docs/contract.md, "Webhooks"). */
export const WEBHOOK_TYPES = ['session.created', 'session.revoked', 'password.changed', 'account.deleted', 'user.blocked'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

export interface WebhookEvent {
  type: WebhookType;
  /**
   * What makes it this event and no other (`session.revoked:<userId>:<seq>:<sessionId>`):
   * enqueued again, it is refused as a duplicate, or delivered again with the
   * same `webhook-id`. Null for an event that only one call can enqueue.
   */
  key: string | null;
  data: Record<string, unknown>;
  /** When it happened (the body's `timestamp`); now by default. */
  at?: Date;
  /**
   * For `intend`: what shows that the change it announces happened, checked
   * before it is sent if its caller never confirmed it (it died, or its
   * confirmation failed): `session:<sessionId>` (the session exists),
   * `password:<sha-256 of the new hash>`, `blocked:<blockedAt in ms>`.
   */
  pending?: string;
}

/** The webhook outbox's writing side: one insert where an event happens (src/webhooks/delivery.ts sends them). */
export interface Webhooks {
  /** Some WEBHOOK_URL is configured. */
  readonly enabled: boolean;
  /**
   * Writes the user's events to the outbox, in this order after every event
   * of the user enqueued before: one insert (one document per event and
   * endpoint), nothing sent here. A no-op without WEBHOOK_URL. Throws when the
   * database refused it: callers on a request path log it and go on.
   */
  enqueue(userId: string, events: readonly WebhookEvent[]): Promise<void>;
  /** `enqueue` for an action that has already happened: a failure is logged, not thrown. */
  notify(userId: string, events: readonly WebhookEvent[]): Promise<void>;
  /**
   * Written *before* a change, so that an instance dying between the change and
   * its event loses nothing: the events (each keyed, with `pending`) wait until
   * `confirm` (their final data; sent at once) or `cancel` (the change did not
   * happen); unconfirmed after WEBHOOK_RETRY_BASE_MS, the delivery job checks
   * `pending` itself and sends or drops them (src/webhooks/delivery.ts).
   * Takes their place in the user's order now. A failure is logged, not thrown:
   * the change goes on, and its event is lost (as with `notify`).
   */
  intend(userId: string, events: readonly WebhookEvent[]): Promise<void>;
  /** The change happened: the intended events (same keys) with their final data, due now. Logged on failure. */
  confirm(userId: string, events: readonly WebhookEvent[]): Promise<void>;
  /** The change did not happen: the intended events (same keys) are removed. Logged on failure. */
  cancel(userId: string, events: readonly WebhookEvent[]): Promise<void>;
}

/** An idle user's counter is kept this long; it restarts from the clock anyway. */
const SEQ_TTL_MS = 86_400_000;

/**
 * KEYS: the user's counter. ARGV: how many numbers, the counter's ttl. Returns the last one.
 * A new counter starts at the clock in microseconds (16 digits, exact in Lua's doubles and in
 * JavaScript's numbers), so one that Redis lost restarts above every number it gave before.
 */
const SEQ_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], t[1] .. string.format('%06d', tonumber(t[2])))
end
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return last
`;

/** The Standard Webhooks message id: derived from the event's key when it has one, else random. */
export function messageIdOf(key: string | null): string {
  const bytes = key === null ? randomBytes(18) : createHash('sha256').update(key).digest().subarray(0, 18);
  return `msg_${bytes.toString('base64url')}`;
}

type Draft = Omit<WebhookRecord, '_id' | 'seq'>;

export function createWebhooks(deps: {
  models: Pick<Models, 'Webhook'>;
  redis: RedisClient | null;
  log: Logger;
  urls: readonly string[];
  /** How long an intended event waits for its confirmation before the delivery job checks it (WEBHOOK_RETRY_BASE_MS). */
  pendingMs: number;
}): Webhooks {
  const { models, redis, log, urls, pendingMs } = deps;
  let lastLocal = 0;

  /** The first of `count` consecutive numbers in the user's order. */
  async function numbers(userId: string, count: number): Promise<number> {
    if (redis) {
      try {
        const last = Number(await redis.eval(SEQ_SCRIPT, 1, redisKeys.webhookSeq(userId), count, SEQ_TTL_MS));
        return last - count + 1;
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'webhook counter unavailable; ordered by this instance\'s clock');
      }
    }
    // One process (development), or Redis unreachable: this instance's clock, in the counter's unit.
    const first = Math.max(Date.now() * 1000, lastLocal + 1);
    lastLocal = first + count - 1;
    return first;
  }

  async function insert(userId: string, drafts: readonly Draft[], tries = 3): Promise<void> {
    const first = await numbers(userId, drafts.length);
    const documents = drafts.map((draft, i) => ({ ...draft, seq: first + i }));
    try {
      await models.Webhook.collection.insertMany(documents, { ordered: false });
    } catch (error) {
      if (!isDuplicateKey(error) || tries <= 1) throw error;
      // A message enqueued before is fine (a repeated completion); a number taken twice (the
      // clock fallback) is not: whatever is not in the outbox now is written with new numbers.
      const present = await models.Webhook.find({ msgId: op({ $in: documents.map((d) => d.msgId) }) }, { msgId: 1, endpoint: 1 }).lean();
      const seen = new Set(present.map((p) => `${p.msgId} ${p.endpoint}`));
      const missing = drafts.filter((d) => !seen.has(`${d.msgId} ${d.endpoint}`));
      if (missing.length > 0) await insert(userId, missing, tries - 1);
    }
  }

  const bodyOf = (event: WebhookEvent, now: Date): string =>
    JSON.stringify({ type: event.type, timestamp: (event.at ?? now).toISOString(), data: event.data });

  async function enqueue(userId: string, events: readonly WebhookEvent[], pending = false): Promise<void> {
    if (urls.length === 0 || events.length === 0) return;
    const now = new Date();
    const dueAt = pending ? new Date(now.getTime() + pendingMs) : now;
    const drafts = events.flatMap((event) => {
      const msgId = messageIdOf(event.key);
      const body = bodyOf(event, now);
      const check = pending ? (event.pending ?? null) : null;
      return urls.map((endpoint) => ({ msgId, endpoint, userId, type: event.type, body, attempts: 0, pending: check, dueAt, createdAt: now }));
    });
    await insert(userId, drafts);
  }

  /** Runs a write of the outbox for events already happened or decided; a failure is logged, not thrown. */
  const logged = async (what: string, events: readonly WebhookEvent[], write: () => Promise<unknown>): Promise<void> => {
    await write().catch((error: unknown) => log.error({ err: (error as Error).message, types: events.map((e) => e.type) }, what));
  };

  return {
    enabled: urls.length > 0,
    enqueue,
    async notify(userId, events) {
      await logged('webhook not enqueued', events, () => enqueue(userId, events));
    },
    async intend(userId, events) {
      await logged('webhook not enqueued', events, () => enqueue(userId, events, true));
    },
    async confirm(userId, events) {
      if (urls.length === 0) return;
      const now = new Date();
      await logged('webhook not confirmed; the delivery job checks it', events, () =>
        Promise.all(
          events.map((event) =>
            // Only while still pending: once the delivery job checked it itself, it may be on its way.
            models.Webhook.updateMany(
              { msgId: messageIdOf(event.key), userId, pending: op({ $ne: null }) },
              { $set: { pending: null, dueAt: now, body: bodyOf(event, now) } },
            ),
          ),
        ),
      );
    },
    async cancel(userId, events) {
      if (urls.length === 0) return;
      await logged('webhook not cancelled; the delivery job checks it', events, () =>
        models.Webhook.deleteMany({ msgId: op({ $in: events.map((event) => messageIdOf(event.key)) }), userId }),
      );
    },
  };
}
