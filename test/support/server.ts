import { randomBytes } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { RedisClusterFixture } from './redis-cluster.js';
import { startOwnRedis, type OwnRedis } from './redis-server.js';
import { createHttpServer, httpTimeouts } from '../../src/http/node-server.js';
import { createMetricsServer, listenOn } from '../../src/http/metrics-server.js';
import { createApp } from '../../src/server.js';
import { startJobs } from '../../src/jobs.js';
import { createServices, type Services } from '../../src/services.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-production-use';

/** A unique database per test file, on the shared MongoDB-wire server. */
export function testDatabaseUri(): string {
  const url = new URL(inject('mongoUri'));
  url.pathname = `/la_test_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

export interface TestServer {
  /** The Node HTTP server (for tests of its shutdown). */
  http: Server;
  url: string;
  graphqlUrl: string;
  /** `http://127.0.0.1:port/metrics`, on a port of its own, when started with METRICS_PORT (any value: a free port is taken). */
  metricsUrl: string | undefined;
  services: Services;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string | undefined>;
  monitorCommands?: boolean;
  /** Where the server's JSON log lines go (default: LOG_LEVEL, silent in tests). */
  logger?: Logger;
}

/** The real app on a free port, built exactly as src/main.ts builds it. */
export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // Every test signs in from 127.0.0.1; the rate-limit test sets its own limits.
    RATE_LIMIT_PER_IP: '1000000',
    RATE_LIMIT_PER_ACCOUNT_ADDRESS: '1000',
    RATE_LIMIT_PER_ACCOUNT: '1000',
    REDIS_URL: inject('redisUrl'),
    ...options.env,
  });
  const services = await createServices(config, { monitorCommands: options.monitorCommands ?? false, logger: options.logger });
  const stopJobs = await startJobs(services);
  const server: Server = createHttpServer(createApp(services), httpTimeouts(config));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(services.metrics, services.log);
  const metricsUrl = metricsServer && `http://127.0.0.1:${await listenOn(metricsServer, 0, '127.0.0.1')}/metrics`;
  return {
    http: server,
    url,
    graphqlUrl: `${url}/graphql`,
    metricsUrl,
    services,
    // Once: a test may stop an instance itself (as if it died), and the fixture closes it again after.
    close: once(async () => {
      metricsServer?.closeAllConnections();
      metricsServer?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopJobs();
      await services.close();
    }),
  };
}

function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= run());
}

/**
 * Records the MongoDB commands a server started with `monitorCommands` issues
 * from now on (call it in a test or a hook): each as `pick` describes it, or
 * not at all where `pick` gives null; by default its name. Empty the array
 * (`length = 0`) to start over.
 */
export function recordCommands(
  server: Pick<TestServer, 'services'>,
  pick: (event: CommandStartedEvent) => string | null = (event) => event.commandName,
): string[] {
  const recorded: string[] = [];
  server.services.connection.getClient().on('commandStarted', (event: CommandStartedEvent) => {
    const picked = pick(event);
    if (picked !== null) recorded.push(picked);
  });
  return recorded;
}

/** Drops a test database (through a separate connection, after the servers closed). */
export async function dropDatabase(uri: string): Promise<void> {
  const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
  await connection.dropDatabase().catch(() => {});
  await connection.close();
}

export interface ServerFixture extends TestServer {
  /** The database of this describe block. */
  readonly mongoUri: string;
  /** The private redis-server, with `ownRedis: true` (for tests that stop or flush it). */
  readonly redis: OwnRedis;
  /** Its URL, if this server (or the one it shares with) has a private Redis. */
  readonly ownRedisUrl: string | undefined;
  /** The Redis Cluster it runs on, if any. */
  readonly redisCluster: ClusterAddress | undefined;
}

/** A Redis Cluster as a server is pointed at it (REDIS_CLUSTER_NODES), read once the cluster is up. */
export type ClusterAddress = Pick<RedisClusterFixture, 'nodesEnv'> & { readonly caFile?: string };

/** Where a flow's servers keep their shared state: the run's Redis server, or a Redis Cluster. */
export interface RedisChoice {
  redisCluster?: ClusterAddress;
}

/** For a test whose Redis state must start empty: a private redis-server, unless on a cluster (the test file's own). */
export const privateRedis = (on: RedisChoice): { ownRedis?: boolean; redisCluster?: ClusterAddress } =>
  on.redisCluster ? { redisCluster: on.redisCluster } : { ownRedis: true };

/**
 * A server for one describe block: started in beforeAll on its own database
 * (and, with `ownRedis`, its own redis-server), stopped and dropped in
 * afterAll. The returned object reads through to the running server, so tests
 * use it as they would the server itself.
 */
export function useTestServer(
  options: TestServerOptions & {
    ownRedis?: boolean;
    /** On this Redis Cluster (test/support/redis-cluster.ts) instead of a single Redis server. */
    redisCluster?: ClusterAddress;
    /** Another instance of the same deployment: its database, and its private Redis (or cluster) if it has one. */
    shareWith?: ServerFixture;
  } = {},
): ServerFixture {
  const mongoUri = options.shareWith?.mongoUri ?? testDatabaseUri();
  let server: TestServer | undefined;
  let redis: OwnRedis | undefined;
  let sharedRedisUrl: string | undefined;
  const running = (): TestServer => {
    if (!server) throw new Error('the test server starts in beforeAll: use it inside tests and hooks');
    return server;
  };
  const cluster = options.redisCluster ?? options.shareWith?.redisCluster;
  beforeAll(async () => {
    if (options.ownRedis) redis = await startOwnRedis();
    sharedRedisUrl = options.shareWith?.ownRedisUrl;
    const redisUrl = redis?.url ?? sharedRedisUrl;
    const redisEnv = cluster ? { REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_TLS_CA_FILE: cluster.caFile } : redisUrl ? { REDIS_URL: redisUrl } : {};
    server = await startServer({
      ...options,
      env: { MONGODB_URI: mongoUri, ...redisEnv, ...options.env },
    });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
    await dropDatabase(mongoUri);
  });
  return {
    mongoUri,
    redisCluster: cluster,
    get ownRedisUrl() {
      return redis?.url ?? sharedRedisUrl;
    },
    get redis() {
      if (!redis) throw new Error('useTestServer({ ownRedis: true }) starts a private redis-server');
      return redis;
    },
    get http() {
      return running().http;
    },
    get url() {
      return running().url;
    },
    get graphqlUrl() {
      return running().graphqlUrl;
    },
    get metricsUrl() {
      return running().metricsUrl;
    },
    get services() {
      return running().services;
    },
    close: () => running().close(),
  };
}
