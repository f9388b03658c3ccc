import type { Redis } from 'ioredis';
import type { Revocation } from './revocation/ledger.js';
import type { SessionView } from './resolvers/views.js';

/**
 * Sessions of `userId` were revoked by one call (one for logout and
 * revokeSession, all of them for logoutAll), with the call's place in the
 * user's order (`seq`): a listener that sees a number skipped knows it missed
 * one. One message per call, so that each listener can tell of the others
 * before its own, which ends its stream. Dates travel as ISO strings (JSON).
 */
export type SessionRevokedMessage = Revocation;

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

export const channel = (topic: Topic, key: string): string => `la:${topic}:${key}`;

export interface PubSub {
  publish<T extends Topic>(topic: T, key: string, payload: Topics[T]): Promise<void>;
  /**
   * Resolves once the subscription is live (for Redis: SUBSCRIBE acknowledged),
   * so a caller can order "listening" before "checking what it missed".
   * The returned function unsubscribes.
   */
  subscribe<T extends Topic>(topic: T, key: string, onMessage: (payload: Topics[T]) => void): Promise<() => void>;
  /** How many local listeners are subscribed, over all channels (tests check that streams give theirs back). */
  listenerCount(): number;
  close(): Promise<void>;
}

type Listener = (payload: never) => void;

/**
 * One channel's listeners on this instance. However many streams a user has
 * here, the instance holds one Redis subscription for them and parses each
 * message once: every listener gets the same object, so what they derive from
 * it can be computed once and shared (src/resolvers/session-events.ts).
 */
interface ChannelEntry {
  listeners: Set<Listener>;
  /** SUBSCRIBE's acknowledgement: every listener, not just the first, waits for it. */
  ready: Promise<unknown>;
}

/** Across instances: one subscriber connection, one SUBSCRIBE per channel with listeners here. */
export function createRedisPubSub(publisher: Redis, subscriber: Redis): PubSub {
  const channels = new Map<string, ChannelEntry>();
  let closed = false;
  subscriber.on('message', (name: string, text: string) => {
    const entry = channels.get(name);
    if (!entry) return;
    let payload: never;
    try {
      payload = JSON.parse(text) as never;
    } catch {
      return;
    }
    for (const listener of entry.listeners) listener(payload);
  });
  return {
    async publish(topic, key, payload) {
      await publisher.publish(channel(topic, key), JSON.stringify(payload));
    },
    async subscribe(topic, key, onMessage) {
      // ioredis would queue the SUBSCRIBE until a reconnection: refuse at once instead.
      if (closed || subscriber.status !== 'ready') throw new Error('Connection is closed (Redis subscriber not ready)');
      const name = channel(topic, key);
      let entry = channels.get(name);
      if (!entry) {
        const created: ChannelEntry = { listeners: new Set(), ready: subscriber.subscribe(name) };
        entry = created;
        channels.set(name, created);
        created.ready.catch(() => {
          if (channels.get(name) === created) channels.delete(name);
        });
      }
      const listener = onMessage as Listener;
      entry.listeners.add(listener);
      const mine = entry;
      const unsubscribe = (): void => {
        if (!mine.listeners.delete(listener) || mine.listeners.size > 0) return;
        if (channels.get(name) === mine) channels.delete(name);
        // Queued by the subscriber connection while Redis is away; nothing to do if it fails.
        if (!closed) subscriber.unsubscribe(name).catch(() => {});
      };
      try {
        await mine.ready;
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return unsubscribe;
    },
    listenerCount() {
      let count = 0;
      for (const entry of channels.values()) count += entry.listeners.size;
      return count;
    },
    async close() {
      // The connections belong to the caller, which closes them after this.
      closed = true;
    },
  };
}

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
