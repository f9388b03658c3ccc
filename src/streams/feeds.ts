import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Models } from '../models/index.js';
import { op } from '../models/session.js';
import type { PubSub, Topic, Topics } from '../pubsub.js';
import type { Revocation, RevocationLedger } from '../revocation/ledger.js';
import { fromJson, type SessionData } from '../sessions/session.js';
import { RevocationNotice } from './notice.js';

export interface FeedDeps {
  pubsub: PubSub;
  ledger: Pick<RevocationLedger, 'inFlight'>;
  models: Pick<Models, 'Revocation'>;
  log: Logger;
}

/** What one stream hears of its user. */
export interface FeedListener {
  revoked(notice: RevocationNotice): void;
  /** Only for a stream that asked for new sign-ins too. */
  created?(session: SessionData): void;
  /** Only for a stream that asked for renamed sessions too. */
  updated?(session: SessionData): void;
  /** Messages may have been lost (src/pubsub.ts `onLost`): the stream can no longer be sure it hears everything. */
  lost(error: AppError): void;
}

/** One channel's listeners on this instance: one subscription however many streams listen. */
interface Channel<T> {
  listeners: Set<(value: T) => void>;
  ready: Promise<() => void>;
}

const RECORD_FIELDS = { _id: 0, seq: 1, sessionIds: 1, reason: 1, revokedAt: 1 } as const;

/**
 * What this instance hears for each user with open streams here: one
 * pub/sub subscription per user and topic, however many of the user's streams
 * listen, and each message made into its notice once (src/streams/notice.ts)
 * and handed to every one of them. Work per message does not grow with the
 * number of listeners, and neither do the MongoDB reads a stream needs beyond
 * its start: the streams of one user that miss the same numbers share one read.
 */
export class StreamFeeds {
  private readonly channels = new Map<string, Channel<never>>();
  private readonly gapReads = new Map<string, Promise<RevocationNotice[]>>();
  /** Every stream that joined and has not left: told if messages may have been lost. */
  private readonly joined = new Set<FeedListener>();

  constructor(private readonly deps: FeedDeps) {
    deps.pubsub.onLost(() => this.lose());
  }

  /**
   * Listens for the user's revocations (and with `listener.created`, sign-ins;
   * with `listener.updated`, renames);
   * resolves once listening (for Redis: SUBSCRIBE acknowledged), with the
   * function that stops. Rejects, having left nothing behind, if it cannot listen.
   */
  async join(userId: string, listener: FeedListener): Promise<() => void> {
    // From the start: a loss while the subscription is being made counts too.
    this.joined.add(listener);
    const joins = [this.listen('sessionRevoked', userId, (message) => new RevocationNotice(message), (notice) => listener.revoked(notice))];
    const created = listener.created?.bind(listener);
    if (created) joins.push(this.listen('sessionCreated', userId, (message) => fromJson(message.session), created));
    const updated = listener.updated?.bind(listener);
    if (updated) joins.push(this.listen('sessionUpdated', userId, (message) => fromJson(message.session), updated));
    // All settle before anything goes on, so that whichever succeeded is undone on failure.
    const results = await Promise.allSettled(joins);
    const leaves = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const leave = (): void => {
      this.joined.delete(listener);
      leaves.forEach((stop) => stop());
    };
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      leave();
      throw failed.reason;
    }
    return leave;
  }

  /**
   * The subscriptions may have missed messages (their connection dropped and
   * came back): a stream that cannot be sure it heard everything ends with an
   * error its client reconnects from; the reconnection is refused if the
   * client's own session was revoked meanwhile, else it listens afresh.
   * Channels are made afresh from here on, so that no new stream joins one
   * that may have missed something.
   */
  private lose(): void {
    if (this.joined.size === 0) return;
    this.channels.clear();
    const error = new AppError('SERVICE_UNAVAILABLE', 'The event stream may have missed events (its Redis connection dropped): reconnect');
    this.deps.log.warn({ streams: this.joined.size }, 'pub/sub connection lost: every stream of this instance ends, to be reconnected');
    for (const listener of [...this.joined]) listener.lost(error);
  }

  /** How many streams listen on this instance, over all users and topics (tests check that streams leave). */
  listenerCount(): number {
    let count = 0;
    for (const channel of this.channels.values()) count += channel.listeners.size;
    return count;
  }

  /**
   * The user's revocations numbered `from` to `to`: recorded, or claimed and
   * not recorded yet (the outbox holds a revocation from its claim on, so a
   * number that is neither was lost with Redis). One read for the streams of
   * the user that miss the same numbers at once.
   */
  readGap(userId: string, from: number, to: number): Promise<RevocationNotice[]> {
    const key = `${userId}:${from}:${to}`;
    let read = this.gapReads.get(key);
    if (!read) {
      read = this.revocations(userId, { seq: op({ $gte: from, $lte: to }) }, (r) => r.seq >= from && r.seq <= to).finally(() =>
        this.gapReads.delete(key),
      );
      this.gapReads.set(key, read);
    }
    return read;
  }

  /** The user's revocations stamped from `since` on, recorded or in flight: a new stream's replay. */
  replay(userId: string, since: Date): Promise<RevocationNotice[]> {
    return this.revocations(userId, { revokedAt: op({ $gte: since }) }, (r) => Date.parse(r.revokedAt) >= since.getTime());
  }

  private async revocations(userId: string, filter: object, inFlightWanted: (r: Revocation) => boolean): Promise<RevocationNotice[]> {
    const [records, inFlight] = await Promise.all([
      this.deps.models.Revocation.find({ userId, ...filter }, RECORD_FIELDS).lean(),
      this.deps.ledger.inFlight(userId),
    ]);
    const bySeq = new Map<number, Revocation>();
    for (const r of records) {
      bySeq.set(r.seq, { userId, seq: r.seq, sessionIds: r.sessionIds, reason: r.reason, revokedAt: r.revokedAt.toISOString() });
    }
    for (const r of inFlight) if (inFlightWanted(r) && !bySeq.has(r.seq)) bySeq.set(r.seq, r);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq).map((r) => new RevocationNotice(r));
  }

  private async listen<T extends Topic, V>(topic: T, userId: string, make: (message: Topics[T]) => V, listener: (value: V) => void): Promise<() => void> {
    const key = `${topic}:${userId}`;
    let channel = this.channels.get(key) as Channel<V> | undefined;
    if (!channel) {
      const listeners = new Set<(value: V) => void>();
      const created: Channel<V> = {
        listeners,
        ready: this.deps.pubsub.subscribe(topic, userId, (message) => {
          let value: V;
          try {
            value = make(message);
          } catch (error) {
            this.deps.log.warn({ err: (error as Error).message, topic }, 'unreadable stream message dropped');
            return;
          }
          for (const each of listeners) each(value);
        }),
      };
      channel = created;
      this.channels.set(key, created as Channel<never>);
      created.ready.catch(() => {
        if (this.channels.get(key) === (created as Channel<never>)) this.channels.delete(key);
      });
    }
    const mine = channel;
    mine.listeners.add(listener);
    let unsubscribe: () => void;
    try {
      unsubscribe = await mine.ready;
    } catch (error) {
      mine.listeners.delete(listener);
      throw error;
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      mine.listeners.delete(listener);
      if (mine.listeners.size > 0) return;
      if (this.channels.get(key) === (mine as Channel<never>)) this.channels.delete(key);
      unsubscribe();
    };
  }
}
