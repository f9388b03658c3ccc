import { randomBytes, randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisClusterConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/metrics.js';
import { op } from '../src/models/session.js';
import { connectCommands } from '../src/redis-client.js';
import { redisKeys } from '../src/redis-keys.js';
import { createStreams } from '../src/streams/leases.js';
import { restSeedFlows } from './flows/rest-seed.js';
import { signInThrottlingFlows } from './flows/sign-in-throttling.js';
import { streamCapFlows } from './flows/stream-caps.js';
import { racingRevocationFlows } from './flows/racing-revocations.js';
import { twoInstanceFlows } from './flows/two-instances.js';
import { subscriberCount } from './support/events.js';
import { type RedisClusterFixture, startTlsClusterNode, type TlsClusterFixture, useRedisCluster } from './support/redis-cluster.js';
import { restClient, type RestAuth, type RestReply } from './support/rest.js';
import { type ServerFixture, useTestServer } from './support/server.js';
import { eventData, isRevocationOf, openRestEvents, type RawEventStream, type SseItem } from './support/sse.js';

// One cluster for the whole file: six redis-server processes are not cheap on a small machine.
// The failover comes last: after it the cluster has one replica fewer.
describe('on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  const redisCluster = useRedisCluster();

  // First: its counts must start at zero, and every sign-up elsewhere counts against 127.0.0.1.
  describe('sign-in throttling (rate-limiter-flexible on the cluster client)', () => void signInThrottlingFlows({ redisCluster }));
  describe('two instances', () => twoInstanceFlows({ redisCluster }));
  describe('revocations racing on two instances', () => racingRevocationFlows({ redisCluster }));
  describe('the seed flow over REST', () => restSeedFlows({ redisCluster }));
  describe('open streams per session and per user', () => streamCapFlows({ redisCluster }));

  describe('stream leases', () => {
    const LEASE_MS = 60_000;
    afterEach(() => {
      vi.useRealTimers();
    });

    it('renews the leases of users on different nodes (one pipeline per user: a pipeline keeps to one slot)', async () => {
      const client = (await connectCommands({ variable: 'REDIS_CLUSTER_NODES', cluster: clusterConfig(redisCluster) }, 'lease-test')) as Cluster;
      // Only the renewal's interval is driven by the test; the connection's own timers run as ever.
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const streams = createStreams(client, { streamsPerSession: 5, streamsPerUser: 5 }, LEASE_MS, createLogger({ level: 'silent', serverId: 'lease-test' }), new Metrics({ defaults: false }));
      try {
        // Users whose keys live on two different masters.
        const masterOf = async (userId: string): Promise<string> =>
          client.slots[Number(await client.call('CLUSTER', 'KEYSLOT', redisKeys.userStreams(userId)))]![0]!;
        const owners: Array<{ userId: string; sessionId: string }> = [];
        const masters = new Set<string>();
        while (masters.size < 2) {
          const owner = { userId: randomBytes(12).toString('hex'), sessionId: randomUUID() };
          const master = await masterOf(owner.userId);
          if (masters.has(master)) continue;
          masters.add(master);
          owners.push(owner);
        }
        for (const owner of owners) (await streams.acquire(owner, 'rest')).started(() => {});
        const scores = (): Promise<number[]> =>
          Promise.all(owners.map(async (owner) => Number((await client.zrange(redisKeys.userStreams(owner.userId), 0, 0, 'WITHSCORES'))[1])));
        const before = await scores();
        const acquiredBy = Date.now();
        await expect.poll(() => Date.now()).toBeGreaterThan(acquiredBy);
        // A lease's lifetime goes by: it must have been renewed meanwhile. The renewal runs on, on real timers.
        vi.advanceTimersByTime(LEASE_MS);
        vi.useRealTimers();
        await expect.poll(async () => (await scores()).every((score, i) => score > before[i]!)).toBe(true);
      } finally {
        streams.close();
        client.disconnect();
      }
    });
  });

  describe('a master killed while two instances sign devices out', () => {
    // Sweeps every second, taking over what a caller left for a second: the test waits for
    // them, and a failover leaves some revocations to them.
    const env = { REVOCATION_GRACE: '1s', REVOCATION_SWEEP_INTERVAL: '1s' };
    const one = useTestServer({ env: { ...env, SERVER_ID: 'one' }, redisCluster });
    const two = useTestServer({ env: { ...env, SERVER_ID: 'two' }, shareWith: one });

    it('keeps every sign-out, tells or disconnects every revoked device, completes every revocation and answers every request', async () => {
      const load = new SignOutLoad();
      const users = await Promise.all(Array.from({ length: USERS }, (_, u) => signUpWithDevices(u % 2 ? two : one, u % 2 ? one : two)));
      const devices = users.flat();

      // Instance one's subscriptions ride on the master that dies (moved there first if they
      // sit on a replica): its streams lose their subscription with it.
      let victim = await redisCluster.nodeWithClient('logout-all:one:sub');
      if (!victim) throw new Error("instance one's subscriber connection was not found on any node");
      if (!(await redisCluster.isMaster(victim))) await redisCluster.promote(victim);
      victim = await redisCluster.nodeWithClient('logout-all:one:sub');
      expect(victim && (await redisCluster.isMaster(victim))).toBe(true);

      // A third of the users sign their devices out before the kill, a third from the kill
      // on (through the failover), the rest once the replica has taken over.
      const thirds = [users.slice(0, USERS / 3), users.slice(USERS / 3, (2 * USERS) / 3), users.slice((2 * USERS) / 3)] as const;
      const before = load.run(thirds[0]);
      await load.answered(SIGN_OUTS_BEFORE_KILL);
      const killed = redisCluster.killMaster(victim!);
      const during = load.run(thirds[1]);
      await killed;
      const after = load.run(thirds[2]);
      await Promise.all([before, during, after]);

      // Every request got an answer: success, 503 during the failover (then retried), or the
      // refusal of a session a 503'd attempt revoked after all; nothing else, and no hang.
      expect(load.hung).toEqual([]);
      expect(load.unexpected).toEqual([]);

      // Every revocation completes: recorded, announced, out of the outbox, every session marked.
      const { Revocation, Session } = one.services.models;
      const userIds = users.map((devicesOfUser) => devicesOfUser[0]!.userId);
      await expect
        .poll(async () => (await Session.countDocuments({ userId: op({ $in: userIds }), revokedAt: null })) + (await Revocation.countDocuments({ marked: false })), {
          timeout: 30_000,
          interval: 200,
        })
        .toBe(0);
      // Out of the outbox too (its entry goes just after the announcement, which may come after the marking).
      await expect.poll(async () => (await Promise.all(userIds.map((userId) => one.services.ledger.inFlight(userId)))).flat(), { timeout: 30_000, interval: 200 }).toEqual([]);
      const records = await Revocation.find({ userId: op({ $in: userIds }) }).lean();
      const recorded = new Set(records.flatMap((record) => record.sessionIds));
      expect([...recorded].sort()).toEqual(devices.map((d) => d.sessionId).sort());
      for (const sessionId of load.revoked) expect(recorded.has(sessionId)).toBe(true);

      // No revoked token is accepted, on either instance (each answered sign-out, and every
      // device's session is revoked by the end).
      for (const device of devices) {
        for (const server of [one, two]) expect((await restClient(server).get('/api/auth/me', { token: device.token })).status).toBe(401);
      }

      // Every device was told of its own revocation, or its stream ended (with an error, having
      // lost its subscription) and the reconnection is refused: none silently stopped hearing.
      const outcomes = await Promise.all(devices.map((device) => device.outcome));
      for (const [i, device] of devices.entries()) {
        if (outcomes[i] === 'told') continue;
        const reconnection = await fetch(`${device.server.url}/api/auth/events`, { headers: { authorization: `Bearer ${device.token}` } });
        await reconnection.body?.cancel();
        expect(reconnection.status).toBe(401);
      }
      // The streams of instance one lost their subscription with the master.
      expect(devices.filter((device, i) => device.server === one && outcomes[i] === 'ended').length).toBeGreaterThan(0);

      // The subscriptions come back: both instances hear a new user's sign-out on the new topology.
      const [owner, other] = await signUpWithDevices(one, two);
      const streams = await Promise.all([one, two].map((server) => openRestEvents(server, owner!.token)));
      await expect.poll(() => subscriberCount(one.services, owner!.userId)).toBe(2);
      expect((await restClient(two).post('/api/auth/logout', { token: other!.token })).status).toBe(200);
      for (const stream of streams) {
        await stream.until(isRevocationOf(other!.sessionId));
        stream.close();
      }
      for (const device of devices) device.close();
    }, 180_000);
  });
});

describe('on a Redis Cluster over TLS (rediss://), one node, its CA in REDIS_TLS_CA_FILE', () => {
  let node: TlsClusterFixture | undefined;
  beforeAll(async () => {
    node = await startTlsClusterNode();
  });
  afterAll(async () => {
    await node?.stop();
  });

  // Commands and the subscriber connection, both over TLS.
  twoInstanceFlows({
    redisCluster: {
      get nodesEnv() {
        if (!node) throw new Error('the TLS node starts in beforeAll');
        return node.nodesEnv;
      },
      get caFile() {
        return node?.caFile;
      },
    },
  });
});

/** The cluster as REDIS_CLUSTER_NODES would name it. */
const clusterConfig = (cluster: RedisClusterFixture): RedisClusterConfig => ({
  nodes: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
  tls: false,
  username: undefined,
  password: undefined,
});

/** A small version of the many-users load: USERS users with DEVICES devices each, every device listening. */
const USERS = 30;
const DEVICES = 3;
const SIGN_OUTS_BEFORE_KILL = 15;
/** A request unanswered this long is counted as hung. */
const REQUEST_TIMEOUT_MS = 20_000;

/** One signed-in device, listening on its event stream. */
class Device {
  /** 'told': its own `session-revoked` came; 'ended': the stream ended without it. */
  readonly outcome: Promise<'told' | 'ended'>;

  private constructor(
    readonly userId: string,
    readonly sessionId: string,
    readonly token: string,
    /** Where its stream is. */
    readonly server: ServerFixture,
    private readonly stream: RawEventStream,
  ) {
    const own = (item: SseItem): boolean => isRevocationOf(sessionId)(item) && eventData(item).current === true;
    // Read until its own revocation or the stream's end; a stream still open and silent when the
    // test has long finished its waits fails it.
    this.outcome = stream.until(own, 60_000).then(
      () => 'told' as const,
      (error: Error) => {
        if (error.message.startsWith('stream ended first')) return 'ended' as const;
        throw error;
      },
    );
  }

  static async open(userId: string, auth: RestAuth, server: ServerFixture): Promise<Device> {
    return new Device(userId, auth.session.id, auth.token, server, await openRestEvents(server, auth.token));
  }

  close(): void {
    this.stream.close();
  }
}

/** A user with DEVICES sessions, signed up and in on `home`, streams alternating between `home` and `away`. */
async function signUpWithDevices(home: ServerFixture, away: ServerFixture): Promise<Device[]> {
  const api = restClient(home);
  const first = await api.register();
  const logins: RestAuth[] = [first];
  for (let d = 1; d < DEVICES; d += 1) logins.push(await api.login({ email: first.email, deviceInfo: `device ${d}` }));
  return Promise.all(logins.map((auth, d) => Device.open(first.user.id, auth, d % 2 ? away : home)));
}

/**
 * Each user's devices signed out one after the other, as their owners would:
 * the last device signs itself out, the first revokes the second on the
 * other instance, then the first signs everyone out. A 503 is retried at
 * once (a client would retry); every answer is recorded.
 */
class SignOutLoad {
  /** Sessions a sign-out answered success for. */
  readonly revoked = new Set<string>();
  readonly hung: string[] = [];
  readonly unexpected: string[] = [];
  private successes = 0;
  private readonly waiting: Array<{ n: number; resolve: () => void }> = [];

  /** Resolves once `n` sign-outs answered success. */
  answered(n: number): Promise<void> {
    return this.successes >= n ? Promise.resolve() : new Promise((resolve) => this.waiting.push({ n, resolve }));
  }

  async run(users: readonly Device[][]): Promise<void> {
    await Promise.all(users.map((devices) => this.signOut(devices)));
  }

  private async signOut(devices: Device[]): Promise<void> {
    const [first, second, last] = devices as [Device, Device, Device];
    const away = second.server;
    await this.send(last.server, 'POST', '/api/auth/logout', last, () => [last.sessionId]);
    await this.send(away, 'DELETE', `/api/auth/sessions/${second.sessionId}`, first, () => [second.sessionId]);
    await this.send(first.server, 'POST', '/api/auth/logout-all', first, (reply) => (reply.body as { revokedSessionIds: string[] }).revokedSessionIds);
  }

  private async send(server: ServerFixture, method: string, path: string, as: Device, revoked: (reply: RestReply) => string[]): Promise<void> {
    for (;;) {
      let reply: RestReply;
      try {
        reply = await restClient(server).call(method, path, { token: as.token, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (error) {
        this.hung.push(`${method} ${path}: ${(error as Error).message}`);
        return;
      }
      if (reply.status === 503) continue;
      if (reply.status === 200) {
        for (const id of revoked(reply)) this.revoked.add(id);
        this.successes += 1;
        for (const waiter of this.waiting.filter((w) => this.successes >= w.n)) waiter.resolve();
      } else if (reply.status !== 401 && reply.status !== 404) {
        // 401/404: a 503'd attempt revoked it after all (its claim was finished by the sweeps).
        this.unexpected.push(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
      }
      return;
    }
  }
}
