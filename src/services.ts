import mongoose, { type Connection } from 'mongoose';
import type { Config } from './config.js';
import { startEmbeddedMongo } from './embedded-mongo.js';
import { createProcessLogger, type Logger } from './logger.js';
import { withDevelopmentSecret } from './dev-secret.js';
import { createModels, ensureIndexes, type Models } from './models/index.js';
import { createPasswordHasher, type PasswordHasher } from './auth/password-pool.js';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from './pubsub.js';
import { connectCommands, connectSubscriber, type RedisClient, type RedisTarget } from './redis-client.js';
import { createRateLimiter, createSignInLimiter, type RateLimiter, type SignInLimiter } from './auth/rate-limit.js';
import { activityThrottleFor, createMemorySessionCache, createRedisSessionCache, type SessionCache } from './auth/session-cache.js';
import { createMemoryDeadlines, createRedisDeadlines, type SessionDeadlines } from './sessions/deadlines.js';
import { createMemoryLedger, createRedisLedger, type RevocationLedger } from './revocation/ledger.js';
import { createRevocations, type Revocations } from './revocation/revocations.js';
import { createMemorySessionList, createRedisSessionList, type SessionList } from './sessions/session-list.js';
import { ExpiringMap } from './expiring-map.js';
import { createSigningKeys } from './auth/signing-keys.js';
import { createTokenKeys, type TokenKeys } from './auth/token.js';
import { recordSecurityEvent } from './timeline/record.js';
import { createRefusedSignIns, type RefusedSignIns } from './timeline/refused-sign-ins.js';
import { StreamFeeds } from './streams/feeds.js';
import { createStreams, type Streams } from './streams/leases.js';
import { Heartbeat } from './streams/sse.js';
import { Metrics } from './metrics.js';
import { checkDependencies } from './http/health.js';
import { createAdminKeys, type AdminKeys } from './admin/keys.js';
import { createWebhooks, type Webhooks } from './webhooks/outbox.js';
import { revocationEvents } from './webhooks/events.js';

/** Everything a request needs, built once per process (or per test server). */
export interface Services {
  config: Config;
  log: Logger;
  /** The keys tokens are signed and verified with (JWT_ALGORITHM), made once, and the tokens found valid under them. */
  tokenKeys: TokenKeys;
  connection: Connection;
  models: Models;
  cache: SessionCache;
  /** Who revoked which session, in which order (src/revocation/ledger.ts). */
  ledger: RevocationLedger;
  /** Revoking sessions durably and exactly once, and the sweeps that finish what a caller left (src/revocation/revocations.ts). */
  revocations: Revocations;
  /** When each session ends unless used, and the index the expiry sweep wakes for (src/sessions/deadlines.ts). */
  deadlines: SessionDeadlines;
  /** Each user's sessions, so that listing them needs no MongoDB query (src/sessions/session-list.ts). */
  sessionList: SessionList;
  /** bcrypt off the event loop, with a bounded queue (src/auth/password-pool.ts). */
  passwords: PasswordHasher;
  pubsub: PubSub;
  /** Sign-in and registration throttling (src/auth/rate-limit.ts). */
  signInLimiter: SignInLimiter;
  /** Plain fixed-window counters (the security timeline's coalescing). */
  rateLimiter: RateLimiter;
  /** Refused sign-ins, recorded on the timeline after the answer, at a bounded cost (src/timeline/refused-sign-ins.ts). */
  refusedSignIns: RefusedSignIns;
  /** null in the embedded development mode. */
  redis: RedisClient | null;
  /** The open event streams: caps across instances, and the ones shutdown ends. */
  streams: Streams;
  /** What this instance hears for each user with open streams here (src/streams/feeds.ts). */
  feeds: StreamFeeds;
  /** The keep-alive comment of every event stream, both APIs (SSE_HEARTBEAT_MS). */
  heartbeat: Heartbeat;
  /** This instance's Prometheus metrics (src/metrics.ts), served on METRICS_PORT. */
  metrics: Metrics;
  /** ADMIN_API_KEYS, and the check of the admin API's callers (src/admin/keys.ts). */
  adminKeys: AdminKeys;
  /** The webhook outbox's writing side (src/webhooks/outbox.ts); its delivery is a job (src/jobs.ts). */
  webhooks: Webhooks;
  startedAt: number;
  close(): Promise<void>;
}

/** A start-up failure with a one-line explanation for the operator. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface ServiceOptions {
  /** Emit the driver's command-monitoring events (tests count MongoDB commands with it). */
  monitorCommands?: boolean;
  logger?: Logger;
}

// Operator injection (`{"$ne": null}` in a filter) is neutralised by the driver
// layer even if some future code path forgets to validate its input.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', 'throw');

/** Where `npm run dev` keeps the embedded server's data between restarts (`make clean` removes it). */
export const DEV_DATA_DIR = '.data';

async function startDevMongo(log: Logger): Promise<{ uri: string; stop: () => Promise<void> }> {
  try {
    // What it does and which database it uses: information, not a warning.
    const embedded = await startEmbeddedMongo({ dataDir: DEV_DATA_DIR, say: (line) => log.info(line) });
    log.info(embedded.description);
    return embedded;
  } catch (error) {
    throw new StartupError(error instanceof Error ? error.message : String(error));
  }
}

function databaseName(uri: string): string | undefined {
  try {
    const path = new URL(uri).pathname.replace(/^\//, '');
    return path === '' ? 'logout-all' : undefined;
  } catch {
    return undefined;
  }
}

/** The Redis the configuration names (src/redis-client.ts), or undefined: in-process state (development). */
function redisTarget(config: Config): RedisTarget | undefined {
  const ca = config.redisTlsCa;
  if (config.redisCluster) return { variable: 'REDIS_CLUSTER_NODES', cluster: config.redisCluster, ca };
  if (config.redisUrl !== undefined) return { variable: 'REDIS_URL', url: config.redisUrl, ca };
  return undefined;
}

/** A start-up connection, or a StartupError naming the variable that points at it. */
async function startupConnection<T>(target: RedisTarget, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    throw new StartupError(`${target.variable}: cannot connect (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Undoes what start-up did so far, last step first; every step registers its own undo. */
type Cleanups = Array<() => Promise<void>>;

/** MongoDB (embedded when MONGODB_URI is unset), connected and indexed. */
async function openDatabase(
  config: Config,
  options: ServiceOptions,
  log: Logger,
  cleanups: Cleanups,
): Promise<Pick<Services, 'connection' | 'models'>> {
  let uri = config.mongodbUri;
  if (uri === undefined) {
    const embedded = await startDevMongo(log);
    cleanups.push(embedded.stop);
    uri = embedded.uri;
  }
  const timeout = config.mongodbTimeoutMs;
  const connection = mongoose.createConnection(uri, {
    dbName: databaseName(uri),
    // Every wait of an operation is bounded on the client, whatever the server does (FerretDB, or a
    // paused or unreachable MongoDB): finding the server, a free pooled connection, opening one, and
    // its answer. A retried operation (one retry after a network error) waits at most twice. The
    // driver's `timeoutMS` would bound the whole operation, but the driver in use ignores it.
    serverSelectionTimeoutMS: timeout,
    waitQueueTimeoutMS: timeout,
    connectTimeoutMS: timeout,
    socketTimeoutMS: timeout,
    // Mongoose would otherwise queue operations while it thinks the connection is down, for 10 s
    // each and by its own idea of the connection's state: the driver alone decides, bounded as above.
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
    monitorCommands: options.monitorCommands ?? false,
  });
  cleanups.push(async () => void (await connection.close()));
  try {
    await connection.asPromise();
  } catch (error) {
    throw new StartupError(`MONGODB_URI: cannot connect (${error instanceof Error ? error.message : String(error)})`);
  }
  const models = createModels(connection);
  await ensureIndexes(models, log);
  return { connection, models };
}

type SharedState = Pick<Services, 'redis' | 'cache' | 'deadlines' | 'ledger' | 'sessionList' | 'pubsub' | 'signInLimiter' | 'rateLimiter'>;

/** Tombstones are kept as long as an access token can live (a refresh checks MongoDB, src/sessions/refresh.ts). */
const tombstoneTtlMs = (config: Config): number => config.accessTokenTtlSeconds * 1000;

/** Session cache, pub/sub and rate limits shared by every instance through Redis. */
async function openRedisState(target: RedisTarget, config: Config, cleanups: Cleanups): Promise<SharedState> {
  const name = `logout-all:${config.serverId}`;
  const commands = await startupConnection(target, () => connectCommands(target, name));
  cleanups.push(async () => void commands.disconnect());
  const subscriber = await startupConnection(target, () => connectSubscriber(target, `${name}:sub`, commands));
  cleanups.push(async () => {
    // QUIT lets UNSUBSCRIBEs already sent get their replies (those it cuts short are
    // settled in src/pubsub.ts); bounded, as Redis may be down.
    const quit = subscriber.quit().catch(() => undefined);
    await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    subscriber.disconnect();
  });
  return {
    redis: commands,
    cache: createRedisSessionCache(commands, activityThrottleFor(config.sessionIdleTimeoutMs)),
    deadlines: createRedisDeadlines(commands, config.sessionMaxAgeMs),
    ledger: createRedisLedger(commands, { tombstoneTtlMs: tombstoneTtlMs(config) }),
    sessionList: createRedisSessionList(commands),
    pubsub: createRedisPubSub(commands, subscriber),
    signInLimiter: createSignInLimiter(config.rateLimit, commands),
    rateLimiter: createRateLimiter(commands),
  };
}

/** The same, in this process only: development with one instance. */
function inProcessState(config: Config, log: Logger): SharedState {
  // Development's ordinary mode, not a fault: production requires REDIS_URL (src/config.ts).
  log.info('REDIS_URL not set: in-process pub/sub and session cache (one instance only)');
  // The list reads the session states the cache writes, as in Redis.
  const states = new ExpiringMap<string>();
  return {
    redis: null,
    cache: createMemorySessionCache(Date.now, states, activityThrottleFor(config.sessionIdleTimeoutMs)),
    deadlines: createMemoryDeadlines(states, config.sessionMaxAgeMs),
    ledger: createMemoryLedger(states, { tombstoneTtlMs: tombstoneTtlMs(config) }),
    sessionList: createMemorySessionList(states),
    pubsub: createMemoryPubSub(),
    signInLimiter: createSignInLimiter(config.rateLimit, null),
    rateLimiter: createRateLimiter(null),
  };
}

export async function createServices(given: Config, options: ServiceOptions = {}): Promise<Services> {
  const log = options.logger ?? (await createProcessLogger(given));
  const config = await withDevelopmentSecret(given, DEV_DATA_DIR, log);
  const metrics = new Metrics({ defaults: config.metricsPort !== undefined });
  const cleanups: Cleanups = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };

  try {
    const { connection, models } = await openDatabase(config, options, log, cleanups);
    const target = redisTarget(config);
    const shared = target ? await openRedisState(target, config, cleanups) : inProcessState(config, log);
    cleanups.push(() => shared.pubsub.close());
    const passwords = await createPasswordHasher({
      rounds: config.bcryptRounds,
      threads: config.passwordThreads,
      queueLimit: config.passwordQueueLimit,
      log,
      observeWait: (seconds) => metrics.passwordWait.observe(seconds),
    });
    cleanups.push(() => passwords.close());
    const tokenKeys = createTokenKeys(createSigningKeys(config));
    const streams = createStreams(shared.redis, config.caps, config.streamLeaseMs, log, metrics);
    cleanups.push(async () => streams.close());
    const webhooks = createWebhooks({ models, redis: shared.redis, log, urls: config.webhookUrls, pendingMs: config.webhookRetryBaseMs });
    const revocations = createRevocations({
      models,
      ledger: shared.ledger,
      cache: shared.cache,
      pubsub: shared.pubsub,
      log,
      metrics,
      tombstoneTtlMs: tombstoneTtlMs(config),
      graceMs: config.revocationGraceMs,
      onRecorded: webhooks.enabled ? async (revocation) => webhooks.enqueue(revocation.userId, await revocationEvents(models, revocation)) : undefined,
    });
    cleanups.push(async () => revocations.stop());
    const refusedSignIns = createRefusedSignIns({
      models,
      rateLimiter: shared.rateLimiter,
      log,
      record: (event) => recordSecurityEvent({ models, rateLimiter: shared.rateLimiter, log }, event),
    });
    cleanups.push(() => refusedSignIns.close());
    const services: Services = {
      config,
      log,
      tokenKeys,
      connection,
      models,
      ...shared,
      refusedSignIns,
      passwords,
      streams,
      feeds: new StreamFeeds({ pubsub: shared.pubsub, ledger: shared.ledger, models, log }),
      heartbeat: new Heartbeat(config.sseHeartbeatMs),
      metrics,
      revocations,
      adminKeys: createAdminKeys(config.adminApiKeys, shared.rateLimiter, config.rateLimit.windowMs),
      webhooks,
      startedAt: Date.now(),
      close,
    };
    metrics.watch({
      passwordQueue: () => passwords.queued,
      outbox: () => shared.ledger.outboxState(),
      dependencies: async () => {
        const checks = await checkDependencies({ connection, redis: shared.redis });
        return Object.fromEntries(Object.entries(checks).map(([name, state]) => [name, state !== 'down']));
      },
    });
    return services;
  } catch (error) {
    await close();
    throw error;
  }
}
