import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './redis-server.js';

/** One `redis-server --cluster-enabled yes` process of a test cluster. */
export interface ClusterNodeProcess {
  port: number;
  /** `host:port`, as REDIS_CLUSTER_NODES and CLUSTER NODES name it. */
  address: string;
  readonly alive: boolean;
}

/** A private Redis Cluster for tests: three masters, each with one replica, on loopback. */
export interface RedisClusterFixture {
  nodes: readonly ClusterNodeProcess[];
  /** REDIS_CLUSTER_NODES for a server on this cluster. */
  readonly nodesEnv: string;
  /** The live node holding the connection named `name` (CLIENT LIST), or undefined. */
  nodeWithClient(name: string): Promise<ClusterNodeProcess | undefined>;
  /** Whether a live node is a master now (ROLE). */
  isMaster(node: ClusterNodeProcess): Promise<boolean>;
  /** Puts a replica in its master's place by a manual failover (CLUSTER FAILOVER), waiting until the cluster agrees. */
  promote(replica: ClusterNodeProcess): Promise<void>;
  /**
   * SIGKILLs a master and resolves, with the new master, once one of its
   * replicas has been promoted and every live node says the cluster is ok again.
   */
  killMaster(master: ClusterNodeProcess): Promise<ClusterNodeProcess>;
  stop(): Promise<void>;
}

/** Short, so that a failover takes a few seconds (the default is 15 s); far above a loopback round trip. */
const NODE_TIMEOUT_MS = 1500;
/** How long the cluster may take to form or to fail over before the fixture gives up. */
const WAIT_MS = 30_000;

interface Node extends ClusterNodeProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/** One line of CLUSTER NODES: `<id> <ip:port@bus[,hostname]> <flags> <master id or -> … <slots…>`. */
interface NodeLine {
  id: string;
  address: string;
  flags: string[];
  masterId: string;
  slots: string[];
}

function parseClusterNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', endpoint = '', flags = '', masterId = '', , , , , ...slots] = line.trim().split(' ');
      return { id, address: endpoint.split('@')[0] ?? '', flags: flags.split(','), masterId, slots };
    });
}

async function withClient<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
}

/** Polls `check` until it returns a value (not undefined), or fails after WAIT_MS with `what`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} not reached within ${WAIT_MS} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited ${code}: ${output}`))));
  });
}

/**
 * One node on free ports (its cluster bus port too), answering PING. A port
 * another process took between our look and the server's bind makes it exit:
 * then again on other ports.
 */
async function startNode(dir: string, port: () => Promise<number>): Promise<Node> {
  for (let attempt = 1; ; attempt += 1) {
    const [client, bus] = [await port(), await port()];
    const child = spawn(
      'redis-server',
      [
        '--port', String(client), '--cluster-port', String(bus), '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${client}.conf`),
        '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--dir', dir,
        '--save', '', '--appendonly', 'no',
        // A replica's first sync starts at once, rather than after the default 5 s wait for more replicas.
        '--repl-diskless-sync-delay', '0',
      ],
      { stdio: 'ignore' },
    );
    const node: Node = {
      port: client,
      address: `127.0.0.1:${client}`,
      child,
      get alive() {
        return child.exitCode === null && child.signalCode === null;
      },
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`cannot run redis-server (${error.message})`)));
      child.once('spawn', () => resolve());
    });
    const answering = await waitFor(`${node.address} answering`, async () => {
      if (!node.alive) return false;
      return (await withClient(client, (c) => c.ping())) === 'PONG' ? true : undefined;
    }).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    if (answering) return node;
    if (attempt === 3) throw new Error(`redis cluster: redis-server exited at start three times (ports taken?)`);
  }
}

/**
 * Starts six `redis-server --cluster-enabled yes` on free ports (their bus
 * ports free too), joins them with `redis-cli --cluster create … --cluster-replicas 1`,
 * and resolves once every node says `cluster_state:ok`, knows all six, and
 * every replica is in sync with its master (so a failover can happen). No
 * persistence; the node files live in a temporary directory removed by `stop`.
 * A failure on the way stops what was started.
 */
export async function startRedisCluster(): Promise<RedisClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'la-redis-cluster-'));
  const nodes: Node[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.alive) node.child.kill('SIGKILL');
        await node.exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const free = await freePort();
        if (taken.has(free)) continue;
        taken.add(free);
        return free;
      }
    };
    for (let i = 0; i < 6; i += 1) nodes.push(await startNode(dir, port));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes']);
    const fixture = clusterFixture(nodes, stop);
    await waitForHealthy(nodes, 6);
    return fixture;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Every live node says `cluster_state:ok`, knows `known` nodes and sees three
 * masters with slots, each with a replica while no node has died (a failover
 * needs one); every live replica's link to its master is up.
 */
async function waitForHealthy(nodes: readonly Node[], known: number): Promise<void> {
  await waitFor('a healthy cluster', async () => {
    for (const node of nodes.filter((n) => n.alive)) {
      const healthy = await withClient(node.port, async (client) => {
        const info = String(await client.call('CLUSTER', 'INFO'));
        const replication = await client.info('replication');
        const view = parseClusterNodes(String(await client.call('CLUSTER', 'NODES'))).filter((line) => !line.flags.includes('fail'));
        const masters = view.filter((line) => line.flags.includes('master') && line.slots.length > 0);
        const replicated = masters.every((master) => view.some((line) => line.masterId === master.id));
        return (
          info.includes('cluster_state:ok') &&
          info.includes(`cluster_known_nodes:${known}`) &&
          masters.length === 3 &&
          (replication.includes('role:master') || replication.includes('master_link_status:up')) &&
          // After a failover the promoted master has no replica left (its old master is dead).
          (replicated || view.length < nodes.length)
        );
      });
      if (!healthy) return undefined;
    }
    return true;
  });
}

function clusterFixture(nodes: Node[], stop: () => Promise<void>): RedisClusterFixture {
  const live = (): Node[] => nodes.filter((n) => n.alive);
  const byAddress = (address: string): Node => {
    const node = nodes.find((n) => n.address === address);
    if (!node) throw new Error(`redis cluster: no node ${address}`);
    return node;
  };
  const view = async (): Promise<NodeLine[]> => {
    const [asked] = live();
    if (!asked) throw new Error('redis cluster: no live node');
    return parseClusterNodes(String(await withClient(asked.port, (c) => c.call('CLUSTER', 'NODES'))));
  };
  const isMaster = (node: ClusterNodeProcess): Promise<boolean> =>
    withClient(node.port, async (client) => ((await client.call('ROLE')) as [string])[0] === 'master');
  return {
    nodes,
    get nodesEnv() {
      return nodes.map((n) => n.address).join(',');
    },
    async nodeWithClient(name) {
      for (const node of live()) {
        const clients = String(await withClient(node.port, (c) => c.call('CLIENT', 'LIST')));
        if (clients.split('\n').some((line) => line.includes(` name=${name} `))) return node;
      }
      return undefined;
    },
    isMaster,
    async promote(replica) {
      await withClient(replica.port, (c) => c.call('CLUSTER', 'FAILOVER'));
      await waitFor(`${replica.address} promoted`, async () => ((await isMaster(replica)) ? true : undefined));
      await waitForHealthy(nodes, live().length);
    },
    async killMaster(master) {
      const before = await view();
      const victim = before.find((line) => line.address === master.address);
      if (!victim?.flags.includes('master')) throw new Error(`redis cluster: ${master.address} is not a master`);
      const replicas = before.filter((line) => line.masterId === victim.id).map((line) => line.address);
      if (replicas.length === 0) throw new Error(`redis cluster: ${master.address} has no replica to take over`);
      const node = byAddress(master.address) as Node;
      node.child.kill('SIGKILL');
      await node.exited;
      const promoted = await waitFor(`a replica of ${master.address} promoted`, async () => {
        const now = await view();
        const taken = now.find((line) => replicas.includes(line.address) && line.flags.includes('master') && line.slots.length > 0);
        return taken ? byAddress(taken.address) : undefined;
      });
      // Every live node agrees the cluster is whole again (the dead one still counts as known).
      await waitForHealthy(nodes, nodes.length);
      return promoted;
    },
    stop,
  };
}

/**
 * A cluster for one test file (or describe block): started in beforeAll,
 * stopped in afterAll. The returned object reads through to it.
 */
export function useRedisCluster(): RedisClusterFixture {
  let cluster: RedisClusterFixture | undefined;
  const running = (): RedisClusterFixture => {
    if (!cluster) throw new Error('the Redis cluster starts in beforeAll');
    return cluster;
  };
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get nodes() {
      return running().nodes;
    },
    get nodesEnv() {
      return running().nodesEnv;
    },
    nodeWithClient: (name) => running().nodeWithClient(name),
    isMaster: (node) => running().isMaster(node),
    promote: (replica) => running().promote(replica),
    killMaster: (master) => running().killMaster(master),
    stop: () => running().stop(),
  };
}

/** A one-node cluster that speaks TLS only, with the CA its certificate is signed by. */
export interface TlsClusterFixture {
  /** REDIS_CLUSTER_NODES: `rediss://localhost:<port>`. */
  readonly nodesEnv: string;
  /** The test CA's PEM file, for the clients to trust (REDIS_TLS_CA_FILE). */
  readonly caFile: string;
  stop(): Promise<void>;
}

/**
 * One `redis-server --cluster-enabled yes --tls-cluster yes` on a free TLS port
 * (no plain port) holding every slot, with a throwaway CA and a certificate for
 * localhost and 127.0.0.1 made by openssl: enough to run the server's TLS path
 * (commands and the subscriber) against a real cluster.
 */
export async function startTlsClusterNode(): Promise<TlsClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'la-redis-tls-'));
  const file = (name: string): string => join(dir, name);
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=logout-all test CA']);
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('node.key'), '-out', file('node.csr'), '-subj', '/CN=localhost']);
    await writeFile(file('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    await run('openssl', ['x509', '-req', '-in', file('node.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('node.crt'), '-days', '1', '-extfile', file('san.cnf')]);
    const [port, busPort] = [await freePort(), await freePort()];
    const tlsArgs = ['--tls', '--cacert', file('ca.crt'), '-p', String(port)];
    child = spawn(
      'redis-server',
      [
        '--port', '0', '--tls-port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
        '--tls-cert-file', file('node.crt'), '--tls-key-file', file('node.key'), '--tls-ca-cert-file', file('ca.crt'),
        '--tls-auth-clients', 'no', '--tls-cluster', 'yes',
        // Alone, a node does not know its own address (no other node told it): it says it.
        '--cluster-announce-ip', '127.0.0.1',
        '--cluster-enabled', 'yes', '--cluster-config-file', file('nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no',
      ],
      { stdio: 'ignore' },
    );
    await waitFor('the TLS node answering', async () => ((await run('redis-cli', [...tlsArgs, 'ping'])).trim() === 'PONG' ? true : undefined));
    await run('redis-cli', [...tlsArgs, 'cluster', 'addslotsrange', '0', '16383']);
    await waitFor('the TLS cluster ok', async () => ((await run('redis-cli', [...tlsArgs, 'cluster', 'info'])).includes('cluster_state:ok') ? true : undefined));
    return { nodesEnv: `rediss://localhost:${port}`, caFile: file('ca.crt'), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
