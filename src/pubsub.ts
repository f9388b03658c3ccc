import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import type { RevocationReason } from './models/session.js';
import type { SessionView } from './resolvers/views.js';

/**
 * Sessions of `userId` were revoked by one call (one for logout and
 * revokeSession, all of them for logoutAll). One message per call, so that each
 * listener can tell of the others before its own, which ends its stream.
 * Dates travel as ISO strings (JSON).
 */
export interface SessionRevokedMessage {
  userId: string;
  sessionIds: string[];
  reason: RevocationReason;
  revokedAt: string;
}

/**
 * A new session of `userId` (sign-in or registration), for the user's other
 * streams. The session's public fields, dates as ISO strings (JSON).
 */
export interface SessionCreatedMessage {
  userId: string;
  session: AsJson<Omit<SessionView, 'current'>>;
}

/** An object as it travels through JSON: dates become ISO strings. */
type AsJson<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] };

/**
 * Every topic, keyed by what subscribers filter on, with its payload type.
 * The only place a channel name is made.
 */
export interface Topics {
  /** Key: the user id; every instance serving that user's streams listens. */
  sessionRevoked: SessionRevokedMessage;
  /** Key: the user id, as for sessionRevoked. */
  sessionCreated: SessionCreatedMessage;
}
export type Topic = keyof Topics;

const channel = (topic: Topic, key: string): string => `la:${topic}:${key}`;

export interface PubSub {
  publish<T extends Topic>(topic: T, key: string, payload: Topics[T]): Promise<void>;
  /**
   * Resolves once the subscription is live (for Redis: SUBSCRIBE acknowledged),
   * so a caller can order "listening" before "checking what it missed".
   * The returned function unsubscribes.
   */
  subscribe<T extends Topic>(topic: T, key: string, onMessage: (payload: Topics[T]) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** Across instances: graphql-redis-subscriptions over two ioredis connections. */
export function createRedisPubSub(publisher: Redis, subscriber: Redis): PubSub {
  const engine = new RedisPubSub({ publisher, subscriber });
  // After close, streams that end late (a server shutting down) must not send
  // UNSUBSCRIBE on a connection being closed: its failure would go unhandled.
  let closed = false;
  return {
    async publish(topic, key, payload) {
      await engine.publish(channel(topic, key), payload);
    },
    async subscribe(topic, key, onMessage) {
      // graphql-redis-subscriptions leaves a promise unhandled when SUBSCRIBE
      // fails on a closed connection; refuse up front instead of letting it try.
      if (subscriber.status !== 'ready') throw new Error('Connection is closed (Redis subscriber not ready)');
      const id = await engine.subscribe(channel(topic, key), onMessage);
      return () => {
        if (!closed) engine.unsubscribe(id);
      };
    },
    async close() {
      // The connections belong to the caller, which closes them after this.
      closed = true;
    },
  };
}

/** The development default: one process, no Redis. */
export function createMemoryPubSub(): PubSub {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(topic, key, payload) {
      // Delivered asynchronously, as Redis would, so publishers never run subscriber code inline.
      queueMicrotask(() => emitter.emit(channel(topic, key), payload));
    },
    async subscribe(topic, key, onMessage) {
      const name = channel(topic, key);
      const listener = (payload: Topics[typeof topic]): void => onMessage(payload);
      emitter.on(name, listener);
      return () => emitter.off(name, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
