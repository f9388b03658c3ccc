/**
 * Revocation at scale, tried from outside as a client sees it.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ npx tsx bench/revocation-scale.ts [scenario...]
 *
 * Two server instances run as child processes, built and started as production
 * runs them (bench/instances.ts), on one private redis-server and a throwaway
 * database of MONGODB_URI, with the stream caps raised out of the way. This
 * process is the clients: event streams over plain HTTP, half REST
 * `/api/auth/events`, half the GraphQL `sessionRevoked` subscription over SSE,
 * spread over both instances. Scenarios (default: all):
 *
 *   devices:N:K   one user, N devices with a stream each, K other users with one
 *                 idle stream each; `logoutAll` on instance one
 *   session:N     N streams on one session; that session's `logout`
 *   idle:K[:U]    K idle streams, spread over U users (default K: one each): memory per open
 *                 stream, over all K, from K/2 to K, and warmed up (all closed, then K again),
 *                 each after V8's last-resort collection (bench/memory-probe.mjs says why);
 *                 then bare node:http measured the same way (bench/stream-floor.ts)
 *   sessions:N    `logoutAll` of N sessions (no streams)
 *   signout:N     a listed device's `revokeSession`, then `logout`, twenty times: their answers,
 *                 with N other users' sessions in the database
 *
 * BENCH_NODE_FLAGS: extra node flags for the instances (to try V8 settings such
 * as --max-semi-space-size=4).
 *
 * Baseline: the revoke request's own answer (when it returns, the revocation
 * holds everywhere). Printed: the answer time, the p50/p99/max from sending the
 * request to each device's own event, how much later than the answer the last
 * device was told, and the instances' RSS per open stream.
 */
import { randomUUID } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import { startOwnRedis } from '../test/support/redis-server.js';
import { inBatches, login, ms, openStreamRequest, percentile, phase, postJson, register } from './clients.js';
import { bareNodeFloor, buildServer, collectedMemory, startInstance, stopInstance, type Instance, type Memory } from './instances.js';
import { cpuMs } from './proc.js';
import type { Floor } from './stream-floor.js';

const SCENARIOS = process.argv.slice(2).length ? process.argv.slice(2) : ['devices:100:1000', 'devices:1000:0', 'session:3000', 'idle:5000', 'sessions:5000'];
/** A stream not open by then fails the run (a stall would otherwise wait forever). */
const STREAM_OPEN_TIMEOUT_MS = 60_000;
const CONNECTED = Buffer.from('event: connected');
const CURRENT = Buffer.from('"current":');
const OWN = Buffer.from('"current":true');
/** The own event, and what may follow it (GraphQL's `complete`), fit in this many last bytes of a chunk. */
const OWN_WITHIN = 1024;
/** The caps out of the way: these scenarios put thousands of streams and sessions on one user. */
const UNCAPPED = { STREAMS_PER_SESSION: '100000', STREAMS_PER_USER: '100000', SESSIONS_PER_USER: '100000' };

/** One client stream: when its own event came (ms since `since`), and how many events it had. */
interface Stream {
  ready: Promise<void>;
  own: Promise<number>;
  /** Events received, or -1 where not counted. */
  events(): number;
  close(): void;
}

let since = 0;
/** `devices:N:K:rest` or `:graphql` runs one API only (to see where the time goes). */
let api: 'rest' | 'graphql' | 'both' = 'both';

function openStream(instance: Instance, kind: 'rest' | 'graphql', token: string, counted: boolean): Stream {
  let resolveReady = (): void => {};
  let failReady = (_error: Error): void => {};
  let resolveOwn = (_at: number): void => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    failReady = reject;
  });
  const own = new Promise<number>((resolve) => (resolveOwn = resolve));
  let events = 0;
  let readyDone = false;
  const req: ClientRequest = openStreamRequest(instance, kind, token);
  req.on('response', (res) => {
    if (res.statusCode !== 200) {
      failReady(new Error(`stream refused: ${res.statusCode}`));
      return;
    }
    // The REST stream is listening once `connected` arrives; Yoga's first bytes come before its set-up ends.
    if (kind === 'graphql') resolveReady();
    // Bytes, not text: a logoutAll of N devices is N events on each of N streams, all read by this one
    // process on the server's machine, so reading must cost little. The own event is the last one (the
    // stream ends after it), so it is looked for at the end of each chunk only; events are counted on
    // two streams in ten (`counted`: one REST, one GraphQL, one on each instance). A marker split
    // over two chunks is found in the seam.
    let tail = Buffer.alloc(0);
    res.on('data', (chunk: Buffer) => {
      const seam = Buffer.concat([tail, chunk.subarray(0, 20)]);
      if (kind === 'rest' && !readyDone && (chunk.includes(CONNECTED) || seam.includes(CONNECTED))) {
        readyDone = true;
        resolveReady();
      }
      if (counted) {
        const split = seam.indexOf(CURRENT, Math.max(0, tail.length - CURRENT.length + 1));
        if (split !== -1 && split < tail.length) events += 1;
        for (let i = chunk.indexOf(CURRENT); i !== -1; i = chunk.indexOf(CURRENT, i + CURRENT.length)) events += 1;
      }
      if (chunk.subarray(-OWN_WITHIN).includes(OWN) || seam.includes(OWN)) resolveOwn(performance.now() - since);
      tail = Buffer.from(chunk.subarray(-20));
    });
    res.on('error', () => {});
  });
  // Before the stream is open, a failed connection fails the run rather than leaving it waiting.
  req.on('error', (error) => failReady(error));
  return { ready, own, events: () => (counted ? events : -1), close: () => req.destroy() };
}

/** Opens `count` streams for `tokens[i % tokens.length]`, alternating instance and API. */
async function openStreams(instances: Instance[], tokens: string[], count: number): Promise<Stream[]> {
  const streams = await inBatches(count, async (i) => {
    const kind = api === 'both' ? (Math.floor(i / 2) % 2 ? 'graphql' : 'rest') : api;
    const stream = openStream(instances[i % 2]!, kind, tokens[i % tokens.length]!, i % 10 === 0 || i % 10 === 3);
    const stalled = sleep(STREAM_OPEN_TIMEOUT_MS, 'stalled' as const, { ref: false });
    if ((await Promise.race([stream.ready, stalled])) === 'stalled') throw new Error(`stream ${i} did not open within ${STREAM_OPEN_TIMEOUT_MS} ms`);
    return stream;
  });
  // GraphQL streams finish their set-up (subscribe, one indexed read) after their first bytes.
  await sleep(1000 + count / 2);
  return streams;
}

let instancesNow: Instance[] = [];

async function revokeAndMeasure(label: string, streams: Stream[], revoke: () => Promise<unknown>, report = true): Promise<void> {
  const pids = [...instancesNow.map((i) => i.child.pid!), process.pid];
  const cpu = (): number[] => [...pids.map(cpuMs), cpuMs('machine')].map((t) => t ?? NaN);
  const cpuBefore = cpu();
  since = performance.now();
  await revoke();
  const answer = performance.now() - since;
  const timeout = sleep(120_000, NaN, { ref: false });
  const told = await Promise.all(streams.map((s) => Promise.race([s.own, timeout])));
  const cpuAfter = cpu();
  if (!report) return;
  const used = cpuAfter.map((after, i) => after - cpuBefore[i]!);
  // Where the CPU went until the last device was told: the instances, this client process, and everything else (FerretDB, Redis).
  console.error(
    `  cpu: instances ${used[0]} + ${used[1]} ms, clients ${used[2]} ms, others ${used[3]! - used[0]! - used[1]! - used[2]!} ms`,
  );
  const arrived = told.filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
  const last = arrived.at(-1) ?? NaN;
  console.log(
    `${label}: answer ${ms(answer)}; own event p50 ${ms(percentile(arrived, 0.5))} p99 ${ms(percentile(arrived, 0.99))} max ${ms(last)}` +
      ` (${arrived.length}/${streams.length} told; last ${ms(last - answer)} after the answer, ${(last / answer).toFixed(2)}x)`,
  );
}

/**
 * One small logoutAll seen by streams of both APIs on both instances, before
 * anything is measured: the first revocation an instance delivers also
 * compiles its code paths (tens of milliseconds), which a server that has run
 * for a while has long done.
 */
async function warmUp(instances: Instance[], email: string): Promise<void> {
  const [one] = instances as [Instance, Instance];
  const revoker = await register(one, email);
  const devices = await inBatches(8, (i) => login(instances[i % 2]!, email));
  const streams = await openStreams(instances, devices.map((d) => d.token), 8);
  await revokeAndMeasure('', streams, () => postJson(`${one.url}/api/auth/logout-all`, {}, revoker.token), false);
  for (const s of streams) s.close();
}

async function scenario(spec: string, instances: Instance[], run: string, database: string): Promise<void> {
  const [kind, a = '0', b = '0', only] = spec.split(':');
  api = only === 'rest' || only === 'graphql' ? only : 'both';
  const first = Number(a);
  const second = Number(b);
  const [one] = instances as [Instance, Instance];
  const email = (label: string): string => `${label}.${run}.${Math.random().toString(36).slice(2)}@bench.example`;
  await warmUp(instances, email('warm-up'));

  if (kind === 'devices') {
    const owner = email('owner');
    const revoker = await register(one, owner);
    const devices = await phase(`${first} sign-ins`, () => inBatches(first, (i) => login(instances[i % 2]!, owner)));
    const idleUsers = await phase(`${second} registrations`, () => inBatches(second, (i) => register(instances[i % 2]!, email(`idle${i}`))));
    const idle = await phase(`${second} idle streams`, () => openStreams(instances, idleUsers.map((u) => u.token), second));
    const streams = await phase(`${first} device streams`, () => openStreams(instances, devices.map((d) => d.token), first));
    await revokeAndMeasure(`devices N=${first}, idle K=${second}, logoutAll`, streams, () =>
      postJson(`${one.url}/api/auth/logout-all`, {}, revoker.token),
    );
    const counted = streams.filter((s) => s.events() !== -1);
    const short = counted.filter((s) => s.events() !== first + 1).length;
    console.log(`  ${counted.length - short} of ${counted.length} streams counted got all ${first + 1} events`);
    for (const s of [...streams, ...idle]) s.close();
  } else if (kind === 'session') {
    const user = await register(one, email('one-session'));
    const streams = await openStreams(instances, [user.token], first);
    await revokeAndMeasure(`${first} streams on one session, logout`, streams, () => postJson(`${one.url}/api/auth/logout`, {}, user.token));
    for (const s of streams) s.close();
  } else if (kind === 'idle') {
    const userCount = second || first;
    const users = await phase(`${userCount} registrations`, () => inBatches(userCount, (i) => register(instances[i % 2]!, email(`idle${i}`))));
    await sleep(1000);
    const tokens = users.map((u) => u.token);
    const half = Math.floor(first / 2);
    const before = await Promise.all(instances.map(collectedMemory));
    const streams = await phase(`${half} idle streams`, () => openStreams(instances, tokens, half));
    await sleep(2000);
    const middle = await Promise.all(instances.map(collectedMemory));
    // The second half goes on where the first stopped: the same users in the same rotation.
    const rotated = [...tokens.slice(half % tokens.length), ...tokens.slice(0, half % tokens.length)];
    streams.push(...(await phase(`${first - half} more idle streams`, () => openStreams(instances, rotated, first - half))));
    await sleep(2000);
    const after = await Promise.all(instances.map(collectedMemory));
    const mb = (kb: number): string => (kb / 1024).toFixed(0);
    console.log(
      `${first} idle streams (${userCount} users, ${api === 'both' ? 'both APIs' : api}), memory after a last-resort GC: RSS ` +
        `${before.map((m) => mb(m.rss)).join('/')} -> ${after.map((m) => mb(m.rss)).join('/')} MB (the two instances)`,
    );
    // Warmed up: the same number of streams again, in instances that have already grown their
    // heaps for them once. What an open stream costs a server that has run for a while.
    for (const s of streams.splice(0)) s.close();
    await sleep(3000);
    const closed = await Promise.all(instances.map(collectedMemory));
    streams.push(...(await phase(`${first} idle streams again`, () => openStreams(instances, tokens, first))));
    await sleep(2000);
    const again = await Promise.all(instances.map(collectedMemory));
    for (const s of streams) s.close();
    // The baseline: bare node:http holding as many responses per process, measured now the same way.
    const floor = bareNodeFloor(first / 2);
    // Per instance: kB per stream it holds (each holds half).
    const per = (from: Memory[], to: Memory[], key: keyof Memory, count: number): number[] =>
      instances.map((_, i) => (to[i]![key] - from[i]![key]) / (count / 2));
    const readings: Array<[string, keyof Floor, Memory[], Memory[], number]> = [
      [`over all ${first}, fresh instances`, 'overAll', before, after, first],
      [`from ${half} to ${first}`, 'secondHalf', middle, after, first - half],
      [`warmed up (all closed, then ${first} again)`, 'warm', closed, again, first],
    ];
    console.log(`  per open stream | RSS kB (instances) | heap kB | bare node:http RSS / heap kB (bench/stream-floor.ts, ${first / 2} connections) | RSS ÷ floor`);
    for (const [label, key, from, to, count] of readings) {
      const rss = per(from, to, 'rss', count);
      const heap = per(from, to, 'heap', count);
      const f = (n: number): string => n.toFixed(1);
      console.log(
        `  ${label} | ${rss.map(f).join(' / ')} | ${heap.map(f).join(' / ')} | ${floor[key].rss} / ${floor[key].heap} | ` +
          `${rss.map((n) => (n / floor[key].rss).toFixed(2)).join(' / ')}`,
      );
    }
  } else if (kind === 'signout') {
    // A database that many sessions of other users have already passed through, written
    // straight to MongoDB (signing them in would take minutes), then fresh sign-ins signing out.
    const connection = await mongoose.createConnection(database).asPromise();
    const now = Date.now();
    for (let i = 0; i < first; i += 1000) {
      await connection.collection('sessions').insertMany(
        Array.from({ length: Math.min(1000, first - i) }, (_, j) => ({
          sessionId: randomUUID(),
          userId: new mongoose.Types.ObjectId(),
          deviceInfo: `other device ${i + j}`,
          ipAddress: '192.0.2.1',
          userAgent: 'bench',
          lastActivity: new Date(now),
          createdAt: new Date(now),
          expiresAt: new Date(now + 3600_000),
          revokedAt: null,
        })),
      );
    }
    await connection.close();
    const answers = { revokeSession: [] as number[], logout: [] as number[] };
    for (let i = 0; i < 20; i += 1) {
      const instance = instances[i % 2]!;
      const address = email(`signout${i}`);
      const user = await register(instance, address);
      const phone = await login(instance, address);
      const auth = { authorization: `Bearer ${user.token}` };
      // The device list, as a user sees it before choosing a device to sign out.
      await (await fetch(`${instance.url}/api/auth/sessions`, { headers: auth })).arrayBuffer();
      since = performance.now();
      const revoked = await fetch(`${instance.url}/api/auth/sessions/${phone.session.id}`, { method: 'DELETE', headers: auth });
      await revoked.arrayBuffer();
      if (revoked.status !== 200) throw new Error(`revokeSession: ${revoked.status}`);
      answers.revokeSession.push(performance.now() - since);
      since = performance.now();
      await postJson(`${instance.url}/api/auth/logout`, {}, user.token);
      answers.logout.push(performance.now() - since);
    }
    for (const [name, list] of Object.entries(answers)) {
      list.sort((x, y) => x - y);
      console.log(`${name} with ${first} other sessions in the database: answer p50 ${ms(percentile(list, 0.5))} max ${ms(list.at(-1)!)} (20 calls)`);
    }
  } else if (kind === 'sessions') {
    const owner = email('many');
    const revoker = await register(one, owner);
    await inBatches(first - 1, (i) => login(instances[i % 2]!, owner));
    since = performance.now();
    const result = await postJson<{ revokedCount: number }>(`${one.url}/api/auth/logout-all`, {}, revoker.token);
    console.log(`logoutAll of ${first} sessions: answer ${ms(performance.now() - since)} (revokedCount ${result.body.revokedCount})`);
  } else {
    throw new Error(`unknown scenario ${spec}`);
  }
}

async function main(): Promise<void> {
  if (!process.env.MONGODB_URI) {
    console.error('bench: set MONGODB_URI (`make ferretdb` prints one)');
    process.exit(2);
  }
  // The instances run the built server, as production does.
  buildServer();
  const redis = await startOwnRedis();
  console.log(`revocation at scale: two instances, Node ${process.version}, ${SCENARIOS.join(' ')}`);
  try {
    for (const [n, spec] of SCENARIOS.entries()) {
      // A database per scenario: FerretDB answers a per-user query by scanning the whole
      // collection, so one scenario's users would slow the next one's set-up.
      const uri = new URL(process.env.MONGODB_URI);
      uri.pathname = `/la_bench_scale_${Date.now()}_${n}`;
      const env = { MONGODB_URI: uri.toString(), REDIS_URL: redis.url, ...UNCAPPED };
      const instances = await Promise.all([startInstance('one', env), startInstance('two', env)]);
      instancesNow = instances;
      try {
        await scenario(spec, instances, `${Date.now()}.${n}`, uri.toString());
      } finally {
        await Promise.all(instances.map(stopInstance));
        const connection = await mongoose.createConnection(uri.toString()).asPromise();
        await connection.dropDatabase().catch(() => {});
        await connection.close();
      }
    }
  } finally {
    await redis.stop();
  }
}

void main();
