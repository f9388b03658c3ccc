import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import type { Revocation } from './revocation/ledger.js';
import type { SessionJson } from './sessions/session.js';

/**
 * Sessions of `userId` were revoked by one call (one for logout and
 * revokeSession, all of them for logoutAll), with the call's place in the
 * user's order (`seq`): a listener that sees a number skipped knows it missed
 * one. One message per call, so that each listener can tell of the others
 * before its own, which ends its stream. Dates travel as ISO strings (JSON).
 */
export type SessionRevokedMessage = Revocation & {
  /** When it was published (ms, the publisher's clock): the delivery-latency metric measures from here. */
  publishedAt?: number;
};

/** A new session of `userId` (sign-in or registration), for the user's other streams. */
export interface SessionCreatedMessage {
  userId: string;
  session: SessionJson;
}

/** One of `userId`'s sessions was renamed (src/sessions/rename.ts): the session as it is now. */
export interface SessionUpdatedMessage {
  userId: string;
  session: SessionJson;
}

/**
 * Every topic, keyed by what subscribers filter on (the user id: every
 * instance serving that user's streams listens), with its payload type.
 * The only place a channel name is made.
 */
export interface Topics {
  sessionRevoked: SessionRevokedMessage;
  sessionCreated: SessionCreatedMessage;
  sessionUpdated: SessionUpdatedMessage;
}
export type Topic = keyof Topics;

export const channel = (topic: Topic, key: string): string => `la:${topic}:${key}`;

export interface PubSub {
  publish<T extends Topic>(topic: T, key: string, payload: Topics[T]): Promise<void>;
  /**
   * Resolves once the subscription is live (for Redis: SUBSCRIBE acknowledged),
   * so a caller can order "listening" before "checking what it missed".
   * Every listener of a channel gets the same parsed object. The returned
   * function unsubscribes.
   */
  subscribe<T extends Topic>(topic: T, key: string, onMessage: (payload: Topics[T]) => void): Promise<() => void>;
  /**
   * Calls `listener` whenever messages may have been lost: the connection
   * that carries this instance's subscriptions dropped. It comes back by
   * itself, with every subscription, but whatever was published meanwhile is
   * gone, and no one can tell which. Returns the function that stops listening.
   */
  onLost(listener: () => void): () => void;
  /** How many listeners are subscribed on this instance, over all channels (tests check that streams give theirs back). */
  listenerCount(): number;
  close(): Promise<void>;
}

/**
 * Across instances, on graphql-redis-subscriptions' RedisPubSub: one
 * subscriber connection (one server, or any node of a cluster: classic
 * pub/sub reaches every node; src/redis-client.ts), one SUBSCRIBE per channel
 * with listeners here, and each message parsed once for all of them.
 * Publishing goes through the commands connection, to any node of a cluster.
 */
export function createRedisPubSub(publisher: RedisClient, subscriber: Redis): PubSub {
  const redis = new RedisPubSub({ publisher, subscriber: settlingUnsubscribes(subscriber) });
  const live = new Set<number>();
  const lossListeners = new Set<() => void>();
  let closed = false;
  subscriber.on('close', () => {
    if (closed) return;
    for (const listener of [...lossListeners]) listener();
  });
  return {
    async publish(topic, key, payload) {
      await redis.publish(channel(topic, key), payload);
    },
    async subscribe(topic, key, onMessage) {
      // ioredis would queue the SUBSCRIBE until a reconnection: refuse at once instead.
      if (closed || subscriber.status !== 'ready') throw new Error('Connection is closed (Redis subscriber not ready)');
      const subscribing = redis.subscribe(channel(topic, key), onMessage as (message: unknown) => void);
      // Dropped before the SUBSCRIBE was acknowledged, it would be sent again once
      // back, and the caller would think itself listening meanwhile: it fails now.
      let interrupt = (): void => {};
      const interrupted = new Promise<never>((_, reject) => {
        interrupt = () => reject(new Error('Connection is closed (Redis subscriber lost while subscribing)'));
      });
      lossListeners.add(interrupt);
      let id: number;
      try {
        id = await Promise.race([subscribing, interrupted]);
      } catch (error) {
        void subscribing.then((late) => redis.unsubscribe(late)).catch(() => {});
        throw error;
      } finally {
        lossListeners.delete(interrupt);
      }
      live.add(id);
      return () => {
        // The UNSUBSCRIBE waits in the subscriber connection's queue while Redis is away.
        if (live.delete(id)) redis.unsubscribe(id);
      };
    },
    onLost(listener) {
      lossListeners.add(listener);
      return () => void lossListeners.delete(listener);
    },
    listenerCount: () => live.size,
    async close() {
      // The connections belong to the caller, which closes them after this.
      closed = true;
    },
  };
}

/**
 * The subscriber connection as RedisPubSub uses it: `on`, and SUBSCRIBE and
 * PSUBSCRIBE (with callbacks), UNSUBSCRIBE and PUNSUBSCRIBE, whose promises
 * it drops. One still unanswered when the connection is closed (a shutdown
 * while Redis is away, or with the command in flight) rejects, and would be an
 * unhandled rejection: they are settled here, the rest passed through.
 */
function settlingUnsubscribes(subscriber: Redis): Redis {
  const settled = (reply: Promise<unknown>): Promise<unknown> => {
    reply.catch(() => {});
    return reply;
  };
  const forLibrary = {
    on: (event: string, listener: (...args: unknown[]) => void) => {
      subscriber.on(event, listener);
      return forLibrary;
    },
    subscribe: (channel: string, callback: (error?: Error | null) => void) => subscriber.subscribe(channel, callback),
    psubscribe: (pattern: string, callback: (error?: Error | null) => void) => subscriber.psubscribe(pattern, callback),
    unsubscribe: (channel: string) => settled(subscriber.unsubscribe(channel)),
    punsubscribe: (pattern: string) => settled(subscriber.punsubscribe(pattern)),
  };
  // RedisPubSub's option is typed as a whole ioredis client; it uses only the methods above.
  return forLibrary as unknown as Redis;
}

type Listener = (payload: never) => void;

/** The development default: one process, no Redis. */
export function createMemoryPubSub(): PubSub {
  const channels = new Map<string, Set<Listener>>();
  return {
    async publish(topic, key, payload) {
      // Serialized and delivered asynchronously, as Redis would: one object shared by every listener.
      const copy = JSON.parse(JSON.stringify(payload)) as never;
      queueMicrotask(() => {
        for (const listener of channels.get(channel(topic, key)) ?? []) listener(copy);
      });
    },
    async subscribe(topic, key, onMessage) {
      const name = channel(topic, key);
      const listeners = channels.get(name) ?? new Set<Listener>();
      channels.set(name, listeners);
      const listener = onMessage as Listener;
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && channels.get(name) === listeners) channels.delete(name);
      };
    },
    // In one process nothing is ever lost.
    onLost: () => () => {},
    listenerCount() {
      let count = 0;
      for (const listeners of channels.values()) count += listeners.size;
      return count;
    },
    async close() {
      channels.clear();
    },
  };
}
