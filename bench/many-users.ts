/**
 * Many users at once: thousands of users with a few devices each, every
 * device holding an event stream, while users sign out at a steady rate.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ npx tsx bench/many-users.ts [users:U:D:R:S]
 *
 * U users × D devices (default 2,000 × 3), R sign-outs a second (default 50)
 * for S seconds (default 20); or BENCH_USERS, BENCH_DEVICES, BENCH_RATE,
 * BENCH_SECONDS. Develop with `users:200:3:20:5`. It needs R × S ≤ U (each
 * sign-out is a different user's) and D ≥ 2, and U × D + 1,000 open files:
 * `ulimit -n 65536` first where the limit is lower (the instances inherit it).
 *
 * On FerretDB over PostgreSQL, with a FerretDB of its own (so that its CPU
 * figures are this run's only), in a database of its own:
 *
 *   FERRETDB_HANDLER=postgresql make ferretdb      # prints MONGODB_URI=mongodb://127.0.0.1:PORT/
 *   ulimit -n 65536; MONGODB_URI='mongodb://127.0.0.1:PORT/?maxPoolSize=8' npx tsx bench/many-users.ts
 *   make ferretdb-stop                              # stops it, drops its database
 *
 * or by hand: `psql -h 127.0.0.1 -U postgres -c 'create database la_bench_many'`,
 * `test-infra/ferretdb/bin/ferretdb-test -listen 127.0.0.1:27030 -handler postgresql
 * -postgresql-url postgres://postgres@127.0.0.1:5432/la_bench_many` (20 PostgreSQL
 * connections), and `drop database la_bench_many` after. `maxPoolSize=8` (an
 * ordinary MONGODB_URI option; the query string is kept) caps the commands each
 * instance's driver has in flight: with the driver's default of 100, FerretDB
 * v1 over PostgreSQL stopped answering for good under this load (1,000 × 3 at
 * 50/s: 241 of 500 sign-outs unanswered after 30 s; a goroutine dump showed
 * every command waiting for one of its 20 PostgreSQL connections, none of
 * which any command held). The shared FerretDB at mongodb://127.0.0.1:27020/
 * works too, but its CPU is everyone's, and a stall there stalls everyone.
 *
 * Set-up: two instances of the built server (bench/instances.ts), at the
 * default caps (STREAMS_PER_SESSION, STREAMS_PER_USER, SESSIONS_PER_USER;
 * only the sign-in rate limits are raised, every client being 127.0.0.1), on
 * a private redis-server and a throwaway database of MONGODB_URI. Every user
 * registers and signs in D - 1 more devices; the users who will revoke a
 * device have looked at their device list first (as the device page does
 * before offering to sign a device out). Then every device opens one
 * stream, REST `GET /api/auth/events` and the GraphQL `sessionRevoked`
 * subscription over SSE alternately, on alternate instances; this process is
 * every client.
 *
 * Load: R sign-outs a second, each for a different user, sent on schedule
 * whether or not earlier ones have been answered (open loop), on alternate
 * instances: a third `DELETE /api/auth/sessions/:id` of the user's second
 * device by the first, a third `POST /api/auth/logout` (the first device
 * signs itself out), a third `POST /api/auth/logout-all` (every device).
 * Before it, as long a window with no sign-outs: what the idle streams and
 * the servers' timers cost, for comparison.
 *
 * Printed, as a table and as JSON (bench/results/): answers p50/p99 per kind;
 * the time from sending a sign-out to each revoked device's own event
 * (`current: true`); lost (a revoked device not told within 10 s of the last
 * answer); misdelivered (an event naming a session of another user, or
 * `current: true` for another session); the other devices of signed-out users
 * not told, and users not signed out whose streams were told anything or ended;
 * RSS per stream (both instances' RSS after the streams opened minus before,
 * each after V8's last-resort collection, bench/memory-probe.mjs) beside bare
 * node:http's in this run (bench/stream-floor.ts); CPU time during the load
 * (from the first sign-out sent until the last device was told), from
 * /proc/<pid>/stat: the instances per sign-out, delivery included, and Redis,
 * the database server (the process listening on MONGODB_URI's port), its
 * PostgreSQL backends (those whose client port is one of its connections),
 * the command counter, this process, and the rest of the machine; the
 * machine's load average; and the targets, met or missed.
 *
 * MongoDB commands per sign-out, by name: the instances connect to MONGODB_URI
 * through a proxy that reads the wire protocol (bench/wire-count.ts: each
 * OP_MSG's first key, with the collection it names, and the time to its
 * reply), so nothing in the server changes. The proxy adds a hop to every
 * command; BENCH_COUNT_COMMANDS=0 connects the instances directly, to see
 * what that hop costs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import { startOwnRedis, type OwnRedis } from '../test/support/redis-server.js';
import { inBatches, login, ms, openStreamRequest, percentile, phase, register, type Auth, type StreamApi } from './clients.js';
import { bareNodeFloor, buildServer, collectedMemory, startInstance, stopInstance, type Instance, type Memory } from './instances.js';
import { cpuMs, listenerPid, openFilesLimit, postgresBackends, processName } from './proc.js';
import { startWireCounter, type CommandCounts, type WireCounter } from './wire-count.js';

interface Options {
  users: number;
  devices: number;
  rate: number;
  seconds: number;
}

function options(): Options {
  const [label, ...parts] = (process.argv[2] ?? 'users').split(':');
  if (label !== 'users') throw new Error(`usage: bench/many-users.ts [users:U:D:R:S] (got ${process.argv[2]})`);
  const pick = (i: number, env: string, fallback: number): number => {
    const value = Number(parts[i] || process.env[env] || fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${env}: a whole number above 0, got ${parts[i] ?? process.env[env]}`);
    return value;
  };
  const chosen = {
    users: pick(0, 'BENCH_USERS', 2000),
    devices: pick(1, 'BENCH_DEVICES', 3),
    rate: pick(2, 'BENCH_RATE', 50),
    seconds: pick(3, 'BENCH_SECONDS', 20),
  };
  if (chosen.devices < 2) throw new Error('D must be 2 or more (a device revokes another)');
  if (chosen.rate * chosen.seconds > chosen.users) throw new Error(`R × S = ${chosen.rate * chosen.seconds} sign-outs need as many users (U = ${chosen.users})`);
  return chosen;
}

/** A revoked device not told within this long after the last answer is lost. */
const LOST_AFTER_MS = 10_000;
/** A sign-out not answered by then counts as failed. */
const ANSWER_TIMEOUT_MS = 30_000;
/** A stream not open by then fails the run (a stall would otherwise wait forever). */
const STREAM_OPEN_TIMEOUT_MS = 60_000;
/** The whole run, whatever happens: past it, everything is stopped and the run fails. */
const RUN_DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 45 * 60_000);
/** Users signed in and out before anything is measured (see warmUp). */
const WARM_UP_USERS = 12;

const TARGETS = { ownP99Ms: 150, answerP99Ms: 250, rssPerStreamKb: 30 };

const KINDS = ['revokeSession', 'logout', 'logoutAll'] as const;
type Kind = (typeof KINDS)[number];

interface User {
  devices: Auth[];
  /** Every session id of the user: an event naming any other is misdelivered. */
  sessionIds: Set<string>;
}

/** One device's event stream, read as the device would, with what it was told. */
class DeviceStream {
  readonly opened: Promise<void>;
  /** When its own event (`current: true`) came (performance.now()), or null. */
  ownAt: number | null = null;
  /** Sessions it was told of (current: false), in order. */
  readonly told: string[] = [];
  sessionCreated = 0;
  misdelivered = 0;
  ended = false;
  private closing = false;
  private markOpen = (): void => {};
  private failOpen = (_error: Error): void => {};

  constructor(
    readonly user: User,
    readonly device: number,
    readonly api: StreamApi,
    instance: Instance,
  ) {
    this.opened = new Promise((resolve, reject) => {
      this.markOpen = resolve;
      this.failOpen = reject;
    });
    const req = openStreamRequest(instance, api, this.auth.token);
    req.on('response', (res) => this.read(res));
    req.on('error', (error) => {
      this.failOpen(error);
      this.end();
    });
    this.close = () => {
      this.closing = true;
      req.destroy();
    };
  }

  readonly close: () => void;

  get auth(): Auth {
    return this.user.devices[this.device]!;
  }

  private end(): void {
    if (!this.closing) this.ended = true;
  }

  private read(res: IncomingMessage): void {
    if (res.statusCode !== 200) {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => this.failOpen(new Error(`stream refused: ${res.statusCode} ${body.slice(0, 200)}`)));
      return;
    }
    // Yoga's first bytes come before its set-up ends; the REST stream says `connected` once it listens.
    if (this.api === 'graphql') this.markOpen();
    res.setEncoding('utf8');
    let text = '';
    res.on('data', (chunk: string) => {
      const at = performance.now();
      text += chunk;
      for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
        this.onEvent(text.slice(0, end), at);
        text = text.slice(end + 2);
      }
    });
    res.on('close', () => this.end());
    res.on('error', () => {});
  }

  /** One SSE event: `event:` and `data:` lines (comments, the keep-alive pings, are skipped). */
  private onEvent(block: string, at: number): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length === 0 || event === 'complete') return;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data.join('\n')) as Record<string, unknown>;
    } catch {
      this.misdelivered += 1;
      return;
    }
    if (event === 'connected') {
      if (payload.sessionId !== this.auth.session.id) this.misdelivered += 1;
      this.markOpen();
    } else if (event === 'session-created') {
      this.sessionCreated += 1;
      if (!this.user.sessionIds.has(String(payload.id))) this.misdelivered += 1;
    } else if (event === 'session-revoked') {
      this.onRevoked(payload as { sessionId: string; current: boolean }, at);
    } else if (event === 'next') {
      const revoked = (payload.data as { sessionRevoked?: { sessionId: string; current: boolean } } | undefined)?.sessionRevoked;
      if (revoked) this.onRevoked(revoked, at);
      else this.misdelivered += 1;
    }
  }

  private onRevoked(event: { sessionId: string; current: boolean }, at: number): void {
    if (!this.user.sessionIds.has(event.sessionId)) this.misdelivered += 1;
    if (!event.current) this.told.push(event.sessionId);
    else if (event.sessionId !== this.auth.session.id) this.misdelivered += 1;
    else this.ownAt ??= at;
  }
}

interface SignOut {
  kind: Kind;
  user: User;
  instance: number;
  /** performance.now() when it was sent, and how late that was against the schedule. */
  sentAt: number;
  lateMs: number;
  answerMs: number;
  status: number;
  revoked: DeviceStream[];
  others: DeviceStream[];
}

/** Sends one sign-out of `user`'s and waits for its answer (bounded). */
async function signOut(kind: Kind, user: User, streams: DeviceStream[], instance: Instance, record: SignOut): Promise<void> {
  const [first, second] = user.devices as [Auth, Auth];
  const revokedDevices = kind === 'revokeSession' ? [1] : kind === 'logout' ? [0] : user.devices.map((_, d) => d);
  record.revoked = streams.filter((s) => revokedDevices.includes(s.device));
  record.others = streams.filter((s) => !revokedDevices.includes(s.device));
  const request =
    kind === 'revokeSession'
      ? { path: `/api/auth/sessions/${second.session.id}`, method: 'DELETE' }
      : { path: kind === 'logout' ? '/api/auth/logout' : '/api/auth/logout-all', method: 'POST', body: '{}' };
  record.sentAt = performance.now();
  try {
    const response = await fetch(`${instance.url}${request.path}`, {
      method: request.method,
      headers: { authorization: `Bearer ${first.token}`, ...(request.body ? { 'content-type': 'application/json' } : {}) },
      body: request.body,
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    record.status = response.status;
  } catch {
    record.status = 0;
  }
  record.answerMs = performance.now() - record.sentAt;
}

/** p50, p99 and max of a list of ms. */
interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN };
}

/** Polls `done` every 100 ms until it holds or `limitMs` passed; whether it held. */
async function waitUntil(done: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The processes whose CPU time is reported, found again at each reading (PostgreSQL backends come and go). */
interface Watched {
  instances: Instance[];
  redisPid: number | null;
  databasePid: number | null;
  databasePort: number;
  counterPid: number | null;
}

type CpuReading = Map<string, Map<number, number>>;

function readCpu(watched: Watched): CpuReading {
  const groups: Array<[string, number[]]> = [
    ['instance one', [watched.instances[0]!.child.pid!]],
    ['instance two', [watched.instances[1]!.child.pid!]],
    ['redis-server', watched.redisPid ? [watched.redisPid] : []],
    [`database server${watched.databasePid ? ` (${processName(watched.databasePid)})` : ''}`, watched.databasePid ? [watched.databasePid] : []],
    ['PostgreSQL backends', watched.databasePid ? postgresBackends(watched.databasePid, watched.databasePort) : []],
    ['command counter', watched.counterPid ? [watched.counterPid] : []],
    ['bench clients', [process.pid]],
  ];
  const reading: CpuReading = new Map();
  for (const [label, pids] of groups) {
    const times = new Map<number, number>();
    for (const pid of pids) {
      const used = cpuMs(pid);
      if (used !== null) times.set(pid, used);
    }
    reading.set(label, times);
  }
  reading.set('machine', new Map([[0, cpuMs('machine') ?? NaN]]));
  return reading;
}

/** CPU ms per group between two readings (a process that appeared meanwhile: all of its time). */
function cpuUsed(before: CpuReading, after: CpuReading): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [label, pids] of after) {
    used[label] = [...pids].reduce((sum, [pid, ms]) => sum + ms - (before.get(label)?.get(pid) ?? 0), 0);
  }
  const listed = Object.entries(used).filter(([label]) => label !== 'machine');
  used['rest of the machine'] = used.machine! - listed.reduce((sum, [, ms]) => sum + ms, 0);
  delete used.machine;
  return used;
}

/** Commands in `counts` per sign-out, most first. */
function perSignOut(counts: CommandCounts, signOuts: number): Array<{ command: string; perSignOut: number; msPerSignOut: number; count: number }> {
  return Object.entries(counts)
    .map(([command, tally]) => ({ command, count: tally.count, perSignOut: tally.count / signOuts, msPerSignOut: tally.ms / signOuts }))
    .sort((a, b) => b.msPerSignOut - a.msPerSignOut || b.count - a.count);
}

const loads = (): string => loadavg().map((n) => n.toFixed(2)).join(' / ');

/**
 * Sign-outs of every kind on both instances, seen by streams of both APIs,
 * before anything is measured: the first ones an instance serves also compile
 * their code paths, which a server that has run for a while has long done.
 */
async function warmUp(instances: Instance[], users: User[]): Promise<void> {
  const streams = await openStreams(instances, users);
  const records = users.map((user, i) => ({ kind: KINDS[i % 3]!, user }) as SignOut);
  await Promise.all(records.map((r, i) => signOut(r.kind, r.user, streams.filter((s) => s.user === r.user), instances[i % 2]!, r)));
  await waitUntil(() => records.every((r) => r.revoked.every((s) => s.ownAt !== null)), LOST_AFTER_MS);
  for (const s of streams) s.close();
}

/** Signs up `count` users with `devices` devices each, on alternate instances. */
async function signUp(instances: Instance[], count: number, devices: number, prefix: string): Promise<User[]> {
  const run = `${Date.now()}.${process.pid}`;
  const firsts = await inBatches(count, (i) => register(instances[i % 2]!, `${prefix}${i}.${run}@bench.example`));
  const more = await inBatches(count * (devices - 1), (j) => {
    const i = Math.floor(j / (devices - 1));
    return login(instances[(i + j) % 2]!, `${prefix}${i}.${run}@bench.example`);
  });
  return firsts.map((first, i) => {
    const all = [first, ...more.slice(i * (devices - 1), (i + 1) * (devices - 1))];
    return { devices: all, sessionIds: new Set(all.map((a) => a.session.id)) };
  });
}

/** One stream per device; stream k is REST or GraphQL by k's parity, on instance ⌊k/2⌋ mod 2. */
async function openStreams(instances: Instance[], users: User[]): Promise<DeviceStream[]> {
  const devices = users.flatMap((user) => user.devices.map((_, d) => ({ user, d })));
  const streams = await inBatches(devices.length, async (k) => {
    const { user, d } = devices[k]!;
    const stream = new DeviceStream(user, d, k % 2 ? 'graphql' : 'rest', instances[Math.floor(k / 2) % 2]!);
    const stalled = sleep(STREAM_OPEN_TIMEOUT_MS, 'stalled' as const, { ref: false });
    if ((await Promise.race([stream.opened, stalled])) === 'stalled') throw new Error(`stream ${k} did not open within ${STREAM_OPEN_TIMEOUT_MS} ms`);
    return stream;
  });
  // GraphQL streams finish their set-up (subscribe, one indexed read) after their first bytes.
  await sleep(1000 + devices.length / 2);
  return streams;
}

/** What one run holds that must be stopped or removed, however it ends. */
interface Held {
  instances: Instance[];
  redis: OwnRedis | null;
  counter: WireCounter | null;
  streams: DeviceStream[];
  database: string | null;
}

const held: Held = { instances: [], redis: null, counter: null, streams: [], database: null };

async function cleanUp(): Promise<void> {
  for (const s of held.streams.splice(0)) s.close();
  await Promise.all(held.instances.splice(0).map(stopInstance));
  held.counter?.stop();
  held.counter = null;
  await held.redis?.stop();
  held.redis = null;
  const database = held.database;
  held.database = null;
  if (database) {
    // Bounded: a database server that stopped answering must not keep the run from ending.
    const drop = (async () => {
      const connection = await mongoose.createConnection(database, { serverSelectionTimeoutMS: 10_000 }).asPromise().catch(() => null);
      await connection?.dropDatabase().catch(() => {});
      await connection?.close();
    })();
    if ((await Promise.race([drop.then(() => true), sleep(30_000, false, { ref: false })])) === false) {
      console.error(`many-users: could not drop ${new URL(database).pathname.slice(1)} within 30 s; drop it by hand`);
    }
  }
}

/** The last resort (the process is exiting): no waiting, only signals. */
function killChildren(): void {
  for (const instance of held.instances) instance.child.kill('SIGKILL');
  held.counter?.stop();
  void held.redis?.stop();
}

async function run(opts: Options): Promise<void> {
  const { users: U, devices: D, rate: R, seconds: S } = opts;
  const streamCount = U * D;
  const files = openFilesLimit();
  if (files < streamCount + 1000) {
    throw new Error(`open files limit ${files} is below the ${streamCount + 1000} this run needs: run \`ulimit -n 65536\` first`);
  }
  if (!process.env.MONGODB_URI) throw new Error('set MONGODB_URI (`make ferretdb` prints one)');
  const loadAtStart = loads();
  console.log(`many users: ${U} users × ${D} devices = ${streamCount} streams, ${R} sign-outs/s for ${S} s, two instances, Node ${process.version}`);
  console.log(`  load average (1/5/15 min) at start: ${loadAtStart}`);
  buildServer();

  const upstream = new URL(process.env.MONGODB_URI);
  upstream.pathname = `/la_bench_many_${Date.now()}`;
  held.database = upstream.toString();
  held.redis = await startOwnRedis();
  const counting = process.env.BENCH_COUNT_COMMANDS !== '0';
  if (counting) held.counter = await startWireCounter(upstream.toString());
  const env = { MONGODB_URI: held.counter?.uri ?? upstream.toString(), REDIS_URL: held.redis.url };
  held.instances = await Promise.all([startInstance('one', env), startInstance('two', env)]);
  const instances = held.instances;
  const databasePort = Number(upstream.port || 27017);
  const watched: Watched = {
    instances,
    redisPid: listenerPid(held.redis.port),
    databasePid: listenerPid(databasePort),
    databasePort,
    counterPid: held.counter?.pid ?? null,
  };

  const warm = await phase(`${WARM_UP_USERS} warm-up users`, () => signUp(instances, WARM_UP_USERS, D, 'warm'));
  await phase('warm-up sign-outs', () => warmUp(instances, warm));
  const users = await phase(`${U} users × ${D} devices signed in`, () => signUp(instances, U, D, 'user'));
  const signOuts = R * S;
  // The users who will revoke a device have seen their device list (it is what they pick from).
  await phase('device lists shown', () =>
    inBatches(signOuts, async (i) => {
      if (KINDS[i % 3] !== 'revokeSession') return;
      const response = await fetch(`${instances[i % 2]!.url}/api/auth/sessions`, { headers: { authorization: `Bearer ${users[i]!.devices[0]!.token}` } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`device list: ${response.status}`);
    }),
  );
  await sleep(1000);
  const memoryBefore = await Promise.all(instances.map(collectedMemory));
  const streams = await phase(`${streamCount} streams`, () => openStreams(instances, users));
  held.streams = streams;
  const memoryAfter = await Promise.all(instances.map(collectedMemory));
  const byUser = new Map<User, DeviceStream[]>();
  for (const s of streams) byUser.set(s.user, [...(byUser.get(s.user) ?? []), s]);

  // As long a window with no sign-outs: what idle streams and the servers' own timers cost.
  await held.counter?.reset();
  const idleCpuBefore = readCpu(watched);
  await sleep(S * 1000);
  const idleCpu = cpuUsed(idleCpuBefore, readCpu(watched));
  const idleCommands = (await held.counter?.read()) ?? {};

  // The load, open loop: each sign-out goes at its time, answered or not.
  const loadBefore = loads();
  await held.counter?.reset();
  const cpuBefore = readCpu(watched);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const records: SignOut[] = [];
  const answers: Array<Promise<void>> = [];
  const start = performance.now();
  for (let i = 0; i < signOuts; i += 1) {
    const due = start + (i * 1000) / R;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const record = { kind: KINDS[i % 3]!, user: users[i]!, instance: i % 2, lateMs: performance.now() - due } as SignOut;
    records.push(record);
    answers.push(signOut(record.kind, record.user, byUser.get(record.user)!, instances[i % 2]!, record));
  }
  const sendingMs = performance.now() - start;
  await Promise.all(answers);
  const answered = records.filter((r) => r.status === 200);
  const allTold = (): boolean =>
    answered.every((r) => r.revoked.every((s) => s.ownAt !== null) && r.others.every((s) => r.revoked.every((v) => s.told.includes(v.auth.session.id))));
  await waitUntil(allTold, LOST_AFTER_MS);
  const windowMs = performance.now() - start;
  const cpu = cpuUsed(cpuBefore, readCpu(watched));
  const commands = (await held.counter?.read()) ?? {};
  loopDelay.disable();
  const loadAfter = loads();
  // Anything misdelivered or sent to the untouched would have come by now.
  await sleep(1000);

  // What each device was told.
  const signedOut = new Set(records.map((r) => r.user));
  const untouched = streams.filter((s) => !signedOut.has(s.user));
  const own = answered.flatMap((r) => r.revoked.filter((s) => s.ownAt !== null).map((s) => s.ownAt! - r.sentAt));
  const lost = answered.reduce((n, r) => n + r.revoked.filter((s) => s.ownAt === null).length, 0);
  const othersNotTold = answered.reduce(
    (n, r) => n + r.others.filter((s) => !r.revoked.every((v) => s.told.includes(v.auth.session.id))).length,
    0,
  );
  const othersEnded = answered.reduce((n, r) => n + r.others.filter((s) => s.ended).length, 0);
  const misdelivered = streams.reduce((n, s) => n + s.misdelivered, 0);
  const untouchedTold = untouched.filter((s) => s.told.length > 0 || s.ownAt !== null || s.sessionCreated > 0).length;
  const untouchedEnded = untouched.filter((s) => s.ended).length;
  const failed = records.filter((r) => r.status !== 200);

  for (const s of held.streams.splice(0)) s.close();
  await Promise.all(held.instances.splice(0).map(stopInstance));
  const floor = await phase(`bare node:http floor, ${streamCount / 2} connections`, async () => bareNodeFloor(Math.round(streamCount / 2)));

  const rss = memoryAfter.map((after, i) => (after.rss - memoryBefore[i]!.rss) / (streamCount / 2));
  const rssPerStream = (sum(memoryAfter) - sum(memoryBefore)) / streamCount;
  const answerSpreads = Object.fromEntries([
    ...KINDS.map((kind) => [kind, spread(records.filter((r) => r.kind === kind).map((r) => r.answerMs))]),
    ['all', spread(records.map((r) => r.answerMs))],
  ]) as Record<Kind | 'all', Spread>;
  const ownSpread = spread(own);
  const instancesCpu = cpu['instance one']! + cpu['instance two']!;
  // The same, less what the instances spend without sign-outs (heartbeats, sweeps) over as long a time.
  const instancesIdleRate = (idleCpu['instance one']! + idleCpu['instance two']!) / (S * 1000);
  const targets = {
    [`own event p99 ≤ ${TARGETS.ownP99Ms} ms`]: ownSpread.p99 <= TARGETS.ownP99Ms,
    [`answers p99 ≤ ${TARGETS.answerP99Ms} ms`]: answerSpreads.all.p99 <= TARGETS.answerP99Ms,
    '0 lost': lost === 0,
    'every sign-out answered 200': failed.length === 0,
    '0 misdelivered': misdelivered === 0,
    [`RSS per stream ≤ ${TARGETS.rssPerStreamKb} kB`]: rssPerStream <= TARGETS.rssPerStreamKb,
  };
  const report = {
    options: opts,
    node: process.version,
    database: `${upstream.host}${upstream.search}${counting ? ', commands counted through bench/wire-count.ts' : ', connected directly'}`,
    loadAverage: { atStart: loadAtStart, beforeLoad: loadBefore, afterLoad: loadAfter },
    sending: {
      signOuts,
      sentPerSecond: signOuts / (sendingMs / 1000),
      maxLateMs: Math.max(...records.map((r) => r.lateMs)),
      benchEventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      windowMs,
    },
    answersMs: answerSpreads,
    failed: failed.map((r) => ({ kind: r.kind, status: r.status, answerMs: r.answerMs })),
    ownEventMs: ownSpread,
    lost,
    misdelivered,
    othersOfSignedOutUsers: { notTold: othersNotTold, ended: othersEnded },
    untouchedStreams: { count: untouched.length, told: untouchedTold, ended: untouchedEnded },
    memory: {
      rssPerStreamKb: rssPerStream,
      rssPerStreamKbByInstance: rss,
      rssMbBefore: memoryBefore.map((m) => m.rss / 1024),
      rssMbAfter: memoryAfter.map((m) => m.rss / 1024),
      bareNodeFloorKb: floor.overAll,
    },
    cpuMs: {
      load: cpu,
      idle: idleCpu,
      instancesPerSignOut: instancesCpu / signOuts,
      instancesPerSignOutNetOfIdle: (instancesCpu - instancesIdleRate * windowMs) / signOuts,
    },
    mongoCommands: counting
      ? { perSignOut: perSignOut(commands, signOuts), idleSameLength: Object.fromEntries(Object.entries(idleCommands).map(([command, t]) => [command, t.count])) }
      : null,
    targets,
  };
  printReport(report);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/many-users-${new Date().toISOString().replaceAll(':', '-')}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`JSON: ${file}`);
}

const sum = (memory: Memory[]): number => memory.reduce((total, m) => total + m.rss, 0);

type Report = {
  options: Options;
  loadAverage: Record<string, string>;
  sending: { signOuts: number; sentPerSecond: number; maxLateMs: number; benchEventLoopDelayP99Ms: number; windowMs: number };
  answersMs: Record<string, Spread>;
  failed: Array<{ kind: Kind; status: number }>;
  ownEventMs: Spread;
  lost: number;
  misdelivered: number;
  othersOfSignedOutUsers: { notTold: number; ended: number };
  untouchedStreams: { count: number; told: number; ended: number };
  memory: { rssPerStreamKb: number; rssPerStreamKbByInstance: number[]; rssMbBefore: number[]; rssMbAfter: number[]; bareNodeFloorKb: { rss: number; heap: number } };
  cpuMs: { load: Record<string, number>; idle: Record<string, number>; instancesPerSignOut: number; instancesPerSignOutNetOfIdle: number };
  mongoCommands: { perSignOut: ReturnType<typeof perSignOut>; idleSameLength: Record<string, number> } | null;
  targets: Record<string, boolean>;
};

function printReport(r: Report): void {
  const f1 = (n: number): string => n.toFixed(1);
  const row = (cells: Array<string | number>, widths: number[]): string =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  const { signOuts } = r.sending;
  console.log(`\n  load average (1/5/15 min): before the load ${r.loadAverage.beforeLoad}, after ${r.loadAverage.afterLoad}`);
  console.log(
    `  ${signOuts} sign-outs sent at ${f1(r.sending.sentPerSecond)}/s (latest ${ms(r.sending.maxLateMs)} behind schedule, ` +
      `this process's event-loop delay p99 ${ms(r.sending.benchEventLoopDelayP99Ms)}); window ${f1(r.sending.windowMs / 1000)} s`,
  );
  const w = [28, 6, 8, 8, 8];
  console.log(`\n  ${row(['', 'n', 'p50', 'p99', 'max'], w)}`);
  for (const [kind, s] of Object.entries(r.answersMs)) console.log(`  ${row([`answer ${kind}`, s.n, ms(s.p50), ms(s.p99), ms(s.max)], w)}`);
  const o = r.ownEventMs;
  console.log(`  ${row(['own event after sending', o.n, ms(o.p50), ms(o.p99), ms(o.max)], w)}`);
  console.log(`\n  failed sign-outs (not 200): ${r.failed.length}${r.failed.length ? ` (${[...new Set(r.failed.map((x) => x.status))].join(', ')})` : ''}`);
  console.log(`  lost (revoked, not told within ${LOST_AFTER_MS / 1000} s): ${r.lost}`);
  console.log(`  misdelivered events: ${r.misdelivered}`);
  console.log(`  other devices of signed-out users: ${r.othersOfSignedOutUsers.notTold} not told, ${r.othersOfSignedOutUsers.ended} ended`);
  console.log(`  streams of the ${r.untouchedStreams.count / r.options.devices} users not signed out: ${r.untouchedStreams.told} told anything, ${r.untouchedStreams.ended} ended (of ${r.untouchedStreams.count} streams)`);
  const m = r.memory;
  console.log(
    `\n  RSS per stream: ${f1(m.rssPerStreamKb)} kB (instances ${m.rssPerStreamKbByInstance.map(f1).join(' / ')}; ` +
      `RSS ${m.rssMbBefore.map((x) => x.toFixed(0)).join('/')} -> ${m.rssMbAfter.map((x) => x.toFixed(0)).join('/')} MB); ` +
      `bare node:http ${m.bareNodeFloorKb.rss} kB (${f1(m.rssPerStreamKb / m.bareNodeFloorKb.rss)}x)`,
  );
  const cpuWidths = [32, 12, 13, 12];
  console.log(`\n  ${row(['CPU ms', 'load window', 'per sign-out', 'idle window'], cpuWidths)}  (idle: as long, no sign-outs)`);
  for (const [label, used] of Object.entries(r.cpuMs.load)) {
    console.log(`  ${row([label, used.toFixed(0), f1(used / signOuts), (r.cpuMs.idle[label] ?? NaN).toFixed(0)], cpuWidths)}`);
  }
  console.log(
    `  the instances: ${f1(r.cpuMs.instancesPerSignOut)} ms per sign-out, ${f1(r.cpuMs.instancesPerSignOutNetOfIdle)} ms less their idle rate`,
  );
  if (r.mongoCommands) {
    console.log(`\n  MongoDB commands per sign-out (round trip as the proxy saw it; idle window count beside)`);
    const idle = r.mongoCommands.idleSameLength;
    for (const c of r.mongoCommands.perSignOut) {
      console.log(`  ${row([c.command, f1(c.perSignOut) + ' ×', f1(c.msPerSignOut) + ' ms', `idle ${idle[c.command] ?? 0}`], [32, 8, 10, 10])}`);
    }
    const total = r.mongoCommands.perSignOut.reduce((n, c) => n + c.perSignOut, 0);
    console.log(`  ${row(['all', f1(total) + ' ×'], [32, 8])}`);
  }
  console.log('\n  targets:');
  for (const [target, met] of Object.entries(r.targets)) console.log(`    ${met ? 'met   ' : 'MISSED'}  ${target}`);
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`many-users: still running after ${RUN_DEADLINE_MS / 60_000} min; stopping`);
    void cleanUp().finally(() => process.exit(1));
  }, RUN_DEADLINE_MS);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }
  process.once('exit', killChildren);
  try {
    await run(options());
  } finally {
    await cleanUp();
    clearTimeout(deadline);
  }
}

// Exits once cleaned up, whatever handle a stuck connection still holds.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
