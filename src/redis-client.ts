import { createConnection, isIP, type Socket } from 'node:net';
import { connect as connectTls, rootCertificates, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { AbstractConnector, Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig } from './config.js';

/**
 * What the Redis-backed stores take: one server (REDIS_URL) or a cluster
 * (REDIS_CLUSTER_NODES). Both answer the same commands; on a cluster every
 * script, pipeline and multi-key command keeps to one slot (src/redis-keys.ts).
 */
export type RedisClient = Redis | Cluster;

/**
 * Where the shared state lives: the variable that named it, for start-up
 * messages, and the private CA (REDIS_TLS_CA_FILE) that rediss:// trusts.
 */
export type RedisTarget = ({ variable: 'REDIS_URL'; url: string } | { variable: 'REDIS_CLUSTER_NODES'; cluster: RedisClusterConfig }) & { ca?: string | undefined };

/** TLS options of a rediss:// connection: the system's CAs, and the private one if configured. */
const tlsOptions = (ca: string | undefined): ConnectionOptions => (ca ? { ca: [...rootCertificates, ca] } : {});

/** Only a rediss:// URL turns TLS on; the CA option must not turn it on for redis://. */
const urlTls = (url: string, ca: string | undefined): RedisOptions => (url.startsWith('rediss:') && ca ? { tls: tlsOptions(ca) } : {});

/** Reconnection backoff of a single connection: soon after a blip, at most every 2 s. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 200, 2000);
const CONNECT_TIMEOUT_MS = 5000;

/**
 * The connection for commands. It fails fast while disconnected, so a
 * request gets SERVICE_UNAVAILABLE instead of hanging (on a cluster: after
 * ioredis' retries, which follow a failover to the promoted replica, about
 * 16 × 100 ms). Resolves once connected; rejects if it cannot connect.
 */
export async function connectCommands(target: RedisTarget, name: string): Promise<RedisClient> {
  const client = target.variable === 'REDIS_URL' ? commandServer(target.url, name, target.ca) : commandCluster(target.cluster, name, target.ca);
  return connected(client);
}

function commandServer(url: string, name: string, ca: string | undefined): Redis {
  return new Redis(url, {
    ...urlTls(url, ca),
    lazyConnect: true,
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy,
    // Commands issued in the same tick (every request's session lookup, under
    // load) go out in one socket write, not one write each: a write costs CPU
    // time whatever it carries. Order and replies are unchanged.
    enableAutoPipelining: true,
  });
}

function commandCluster(cluster: RedisClusterConfig, name: string, ca: string | undefined): Cluster {
  const options: ClusterOptions = {
    lazyConnect: true,
    // As for one server: no queue while the cluster as a whole is unreachable.
    enableOfflineQueue: false,
    // Not on a cluster: ioredis batches the commands of many slots of a node into one pipeline,
    // and when a failover moves some of them (MOVED), it cannot retry the batch and fails every
    // command in it (redis/ioredis#2075). One command at a time is redirected by itself.
    enableAutoPipelining: false,
    redisOptions: { ...nodeOptions(cluster, ca), connectionName: name, connectTimeout: CONNECT_TIMEOUT_MS },
  };
  // With TLS, ioredis must connect to the names the cluster announces, not to addresses
  // it resolved itself, or certificates issued for those names fail (ioredis' README, "ElastiCache").
  if (cluster.tls) options.dnsLookup = (address, callback) => callback(null, address);
  return new Cluster(cluster.nodes, options);
}

/** What every connection to a cluster node carries: credentials and TLS. */
function nodeOptions(cluster: RedisClusterConfig, ca: string | undefined): RedisOptions {
  return {
    ...(cluster.username !== undefined ? { username: cluster.username } : {}),
    ...(cluster.password !== undefined ? { password: cluster.password } : {}),
    ...(cluster.tls ? { tls: tlsOptions(ca) } : {}),
  };
}

/**
 * The connection that holds pub/sub's subscriptions: always one connection to
 * one server, whose drops are seen (`close`), so that the streams listening
 * through it can be told (src/pubsub.ts). It queues while disconnected (an
 * UNSUBSCRIBE issued while Redis is down must wait for the reconnection, not
 * fail) and re-subscribes by itself once back.
 *
 * On a cluster it is a plain connection to any node: classic pub/sub reaches
 * every node, masters and replicas alike, so any live one will do; each
 * reconnection goes to the next node `commands` knows. (ioredis' Cluster would
 * move its subscriber to another node too, but says nothing when it does, and
 * what was published meanwhile is lost without a word.)
 */
export async function connectSubscriber(target: RedisTarget, name: string, commands: RedisClient): Promise<Redis> {
  const options: RedisOptions = {
    lazyConnect: true,
    connectionName: name,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy,
  };
  if (target.variable === 'REDIS_URL') return connected(new Redis(target.url, { ...options, ...urlTls(target.url, target.ca) }));
  const { cluster } = target;
  const known = (): Address[] => {
    const live = commands instanceof Cluster ? commands.nodes('all').map((node) => ({ host: node.options.host ?? '', port: node.options.port ?? 0 })) : [];
    return live.length > 0 ? live : cluster.nodes;
  };
  const tls = cluster.tls ? tlsOptions(target.ca) : undefined;
  return connected(new Redis({ ...options, ...nodeOptions(cluster, target.ca), Connector: anyNodeConnector(known, tls) }));
}

interface Address {
  host: string;
  port: number;
}

/**
 * A connector (ioredis' extension point for where a connection goes) that
 * connects to the next node of `nodes()` on every (re)connection, starting
 * from a random one so that instances spread over the cluster.
 */
function anyNodeConnector(nodes: () => Address[], tls: ConnectionOptions | undefined): RedisOptions['Connector'] {
  let next = Math.floor(Math.random() * 1024);
  return class AnyNodeConnector extends AbstractConnector {
    constructor(options: unknown) {
      super((options as { disconnectTimeout: number }).disconnectTimeout);
    }

    connect(): Promise<Socket | TLSSocket> {
      const list = nodes();
      const node = list[next++ % list.length];
      this.connecting = true;
      return new Promise((resolve, reject) => {
        // As ioredis' own connector: the stream is made on the next tick, unless disconnected before.
        process.nextTick(() => {
          if (!this.connecting || !node) {
            reject(new Error('Connection is closed.'));
            return;
          }
          const { host, port } = node;
          const stream = tls ? connectTls({ ...tls, host, port, ...(isIP(host) ? {} : { servername: host }) }) : createConnection({ host, port });
          stream.once('error', (error) => {
            this.firstError = error;
          });
          this.stream = stream;
          resolve(stream);
        });
      });
    }
  };
}

/**
 * How long start-up waits for a connection to be ready. A cluster that answers
 * but is not ok (slots not covered) would otherwise be retried for ever.
 */
const READY_TIMEOUT_MS = 10_000;

async function connected<T extends RedisClient>(client: T): Promise<T> {
  client.on('error', () => {
    // Reconnection is automatic; failures surface on the commands that need Redis.
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s (for a cluster: is its state ok?)`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.connect(), late]);
  } catch (error) {
    client.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return client;
}
