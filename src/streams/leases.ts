import { randomUUID } from 'node:crypto';
import { Cluster, type ChainableCommander } from 'ioredis';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Metrics, StreamTransport } from '../metrics.js';

/** A place taken by one open stream; `release` is idempotent. */
export interface StreamLease {
  /** The stream runs: keep the place while it lasts, and end it on shutdown with `stop`. */
  started(stop: () => void): void;
  release(): void;
}

export interface StreamCaps {
  streamsPerSession: number;
  streamsPerUser: number;
}

/**
 * The open event streams (GraphQL subscriptions and REST `/api/auth/events`):
 * the per-session and per-user caps across every instance, and this instance's
 * list of running streams, which shutdown ends cleanly.
 */
export interface Streams {
  /** Takes a place for a new stream, or refuses with RATE_LIMITED before anything of the stream exists. */
  acquire(owner: { userId: string; sessionId: string }, transport: StreamTransport): Promise<StreamLease>;
  /** How many streams run on this instance. */
  readonly running: number;
  /** Shutting down (stopAll was called): /readyz answers 503 from then on. */
  readonly stopping: boolean;
  /** Ends every running stream (each sends its clean end) and refuses new ones. */
  stopAll(): void;
  close(): void;
}

/** Retry-After for a refused stream: a place frees when some stream ends, which cannot be predicted. */
const RETRY_AFTER_S = 30;

/** KEYS: session set, user set. ARGV: now, lapse time, member, per-session cap, per-user cap, key ttl. 0 = taken, 1/2 = full. */
const ACQUIRE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 0
`;

interface Held {
  keys: [string, string];
  member: string;
}

/** Where the leases are kept: Redis across instances, or this process alone. */
interface LeaseStore {
  take(held: Held, caps: StreamCaps): Promise<0 | 1 | 2>;
  renew(held: Iterable<Held>): Promise<void>;
  drop(held: Held): Promise<void>;
}

/**
 * Leases live in two Redis sorted sets (per session, per user), scored by
 * when they lapse. A running stream's lease is renewed by its instance; an
 * instance that dies stops renewing, and its places free themselves after
 * `leaseMs` (STREAM_LEASE). A place taken for a stream that never starts lapses the same way.
 */
function redisLeaseStore(redis: RedisClient, leaseMs: number): LeaseStore {
  return {
    async take({ keys, member }, caps) {
      const now = Date.now();
      return (await redis.eval(
        ACQUIRE_SCRIPT,
        2,
        ...keys,
        now,
        now + leaseMs,
        member,
        caps.streamsPerSession,
        caps.streamsPerUser,
        leaseMs * 2,
      )) as 0 | 1 | 2;
    },
    async renew(held) {
      const until = Date.now() + leaseMs;
      // One pipeline on one server; on a cluster one per user, as a pipeline keeps to one slot
      // there and a user's keys share one.
      const single = redis instanceof Cluster ? null : redis.pipeline();
      const byUser = new Map<string, ChainableCommander>();
      for (const { keys, member } of held) {
        let pipeline = single ?? byUser.get(keys[1]);
        if (!pipeline) {
          pipeline = redis.pipeline();
          byUser.set(keys[1], pipeline);
        }
        for (const key of keys) pipeline.zadd(key, 'XX', until, member).pexpire(key, leaseMs * 2);
      }
      await Promise.all([...(single ? [single] : byUser.values())].map((pipeline) => pipeline.exec()));
    },
    async drop({ keys, member }) {
      await redis.pipeline().zrem(keys[0], member).zrem(keys[1], member).exec();
    },
  };
}

function memoryLeaseStore(): LeaseStore {
  const sets = new Map<string, Set<string>>();
  const members = (key: string): Set<string> => sets.get(key) ?? sets.set(key, new Set()).get(key)!;
  return {
    async take({ keys, member }, caps) {
      if (members(keys[0]).size >= caps.streamsPerSession) return 1;
      if (members(keys[1]).size >= caps.streamsPerUser) return 2;
      for (const key of keys) members(key).add(member);
      return 0;
    },
    async renew() {},
    async drop({ keys, member }) {
      for (const key of keys) {
        members(key).delete(member);
        if (members(key).size === 0) sets.delete(key);
      }
    },
  };
}

export function createStreams(redis: RedisClient | null, caps: StreamCaps, leaseMs: number, log: Logger, metrics: Metrics): Streams {
  const store = redis ? redisLeaseStore(redis, leaseMs) : memoryLeaseStore();
  const running = new Map<Held, () => void>();
  let stopping = false;
  const renewal = setInterval(() => {
    store.renew(running.keys()).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'stream lease renewal failed'));
  }, leaseMs / 3);
  renewal.unref();

  return {
    async acquire({ userId, sessionId }, transport) {
      if (stopping) throw new AppError('SERVICE_UNAVAILABLE', 'The server is shutting down: reconnect to another instance');
      const held: Held = { keys: [redisKeys.sessionStreams(userId, sessionId), redisKeys.userStreams(userId)], member: randomUUID() };
      const full = await store.take(held, caps);
      if (full !== 0) {
        metrics.streamsRefused.inc({ cap: full === 1 ? 'session' : 'user' });
        const what = full === 1 ? `${caps.streamsPerSession} per session` : `${caps.streamsPerUser} per account`;
        throw new AppError('RATE_LIMITED', `Too many open event streams (at most ${what}): close one first`, {
          retryAfter: RETRY_AFTER_S,
        });
      }
      let released = false;
      const open = metrics.streamsOpen.labels(transport);
      open.inc();
      return {
        started(stop) {
          if (released) return;
          running.set(held, stop);
          if (stopping) stop();
        },
        release() {
          if (released) return;
          released = true;
          open.dec();
          running.delete(held);
          store.drop(held).catch(() => {
            // Lapses by itself after the lease.
          });
        },
      };
    },
    get running() {
      return running.size;
    },
    get stopping() {
      return stopping;
    },
    stopAll() {
      stopping = true;
      for (const stop of [...running.values()]) stop();
    },
    close() {
      clearInterval(renewal);
    },
  };
}
