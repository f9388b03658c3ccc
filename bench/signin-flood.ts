/**
 * A flood of refused sign-ins from one address: BENCH_CLIENTS (50) clients
 * send the owner's email and password from an address the limits refuse for
 * that account, as fast as they can, for BENCH_DURATION seconds (10), against
 * one instance. Meanwhile the owner signs in from another address every
 * 250 ms, and /health is sampled every 100 ms. Three phases in one run: idle
 * (the baseline), the flood, and the time after it. At the end of each, the
 * instance's RSS as the kernel counts it, then its RSS and heap after full
 * collections (storm-server.ts): what the phase left held, as opposed to heap
 * V8 grew and has not given back yet. Event-loop delay is measured inside the
 * instance (storm-server.ts).
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/signin-flood.ts
 *
 * Before the baseline, a short warm-up flood on another account from another
 * address, so that what the first refusals cost once (compiled code, grown
 * pools) is in the baseline and the phases compare what a flood leaves held.
 *
 * The database holds BENCH_USERS (5,000) other accounts, written directly: a
 * lookup of an account by email is then what it is in a real deployment (on
 * FerretDB, a scan of the users).
 *
 * Targets: every flood request answered 429; the owner's sign-ins all succeed,
 * during the flood as after it; /health never down; after the flood, the
 * collected heap within a few MB of the idle baseline's.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import mongoose from 'mongoose';
import { performance } from 'node:perf_hooks';
import { benchTarget, freePort, startProcess, type Started } from './processes.js';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const OTHER_USERS = Number(process.env.BENCH_USERS ?? 5000);
const OWNER_EVERY_MS = 250;
const HEALTH_EVERY_MS = 100;
/** A sign-in or health check not answered in this long counts as failed. */
const GIVE_UP_MS = 30_000;

const OWNER_ADDRESS = '198.51.100.7';
const ATTACKER_ADDRESS = '203.0.113.66';
const WARM_UP_ADDRESS = '203.0.113.1';
const WARM_UP_REQUESTS = 1000;

const percentile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};

/** The instance's resident set, from the kernel (Linux), in MB. */
function rssMb(server: Started): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

interface Collected {
  rss: number;
  heap: number;
}

/** Asks the instance (storm-server.ts) over IPC; resolves with the first reply `pick` accepts. */
function ask<T>(server: Started, message: string, pick: (reply: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const listener = (reply: unknown): void => {
      const picked = pick(reply);
      if (picked === undefined) return;
      server.child.off('message', listener);
      resolve(picked);
    };
    server.child.on('message', listener);
    server.child.send(message);
  });
}

/** The instance's RSS and heap (with external memory) after full collections, in MB. */
const collectedMemory = (server: Started): Promise<Collected> =>
  ask(server, 'memory', (reply) => {
    const usage = (reply as { memory?: NodeJS.MemoryUsage }).memory;
    return usage && { rss: usage.rss / 2 ** 20, heap: (usage.heapUsed + usage.external + usage.arrayBuffers) / 2 ** 20 };
  });

type LoopDelay = { p50: number; p99: number; max: number };

/** The event-loop delay inside the instance since the last `reset`. */
const loopDelay = (server: Started): Promise<LoopDelay> =>
  ask(server, 'report', (reply) => (typeof reply === 'object' && reply !== null && 'p99' in reply ? (reply as LoopDelay) : undefined));

interface Phase {
  name: string;
  ownerMs: number[];
  ownerFailed: number;
  healthMs: number[];
  healthDown: number;
  flood: { sent: number; refused: number; other: number; perSecond: number } | null;
  rss: number;
  collected: Collected;
  loop: LoopDelay;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function login(base: string, email: string, password: string, address: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  try {
    const response = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(GIVE_UP_MS),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

/** Fails on `email` from `address` until the limits refuse it (RATE_LIMIT_PER_ACCOUNT_ADDRESS, 5). */
async function getRefused(base: string, email: string, address: string): Promise<void> {
  for (let i = 0; i < 10; i += 1) {
    if ((await login(base, email, 'a wrong guess', address)).status === 429) return;
  }
  throw new Error(`${address} is not refused for ${email}`);
}

/** `total` refused sign-ins from `CLIENTS` clients, before anything is measured. */
async function warmUp(base: string, total: number): Promise<void> {
  const email = 'other.0@example.com';
  await getRefused(base, email, WARM_UP_ADDRESS);
  let sent = 0;
  const client = async (): Promise<void> => {
    while (sent < total) {
      sent += 1;
      await login(base, email, 'a wrong guess', WARM_UP_ADDRESS);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  // Whatever the warm-up left running settles before the baseline: three quick /health answers in a row.
  for (let quick = 0, deadline = performance.now() + 120_000; quick < 3 && performance.now() < deadline; ) {
    const started = performance.now();
    const ok = await fetch(`${base}/health`).then((response) => response.ok, () => false);
    quick = ok && performance.now() - started < 50 ? quick + 1 : 0;
    await sleep(HEALTH_EVERY_MS);
  }
}

/** One phase: the owner's sign-ins and /health throughout, with `flood` clients if asked. */
async function phase(
  name: string,
  base: string,
  server: Started,
  owner: { email: string; password: string },
  flood: boolean,
): Promise<Phase> {
  server.child.send('reset');
  const end = performance.now() + DURATION_MS;
  const result: Phase = {
    name,
    ownerMs: [],
    ownerFailed: 0,
    healthMs: [],
    healthDown: 0,
    flood: null,
    rss: 0,
    collected: { rss: 0, heap: 0 },
    loop: { p50: 0, p99: 0, max: 0 },
  };
  const ownerLoop = async (): Promise<void> => {
    while (performance.now() < end) {
      const { status, ms } = await login(base, owner.email, owner.password, OWNER_ADDRESS);
      if (status === 200) result.ownerMs.push(ms);
      else result.ownerFailed += 1;
      await sleep(OWNER_EVERY_MS);
    }
  };
  const healthLoop = async (): Promise<void> => {
    while (performance.now() < end) {
      const started = performance.now();
      const status = await fetch(`${base}/health`, { signal: AbortSignal.timeout(GIVE_UP_MS) }).then(
        async (response) => (await response.arrayBuffer(), response.status),
        () => 0,
      );
      result.healthMs.push(performance.now() - started);
      if (status !== 200) result.healthDown += 1;
      await sleep(HEALTH_EVERY_MS);
    }
  };
  const counts = { sent: 0, refused: 0, other: 0 };
  const floodLoop = async (): Promise<void> => {
    while (performance.now() < end) {
      const { status } = await login(base, owner.email, owner.password, ATTACKER_ADDRESS);
      counts.sent += 1;
      if (status === 429) counts.refused += 1;
      else counts.other += 1;
    }
  };
  const began = performance.now();
  await Promise.all([ownerLoop(), healthLoop(), ...(flood ? Array.from({ length: CLIENTS }, floodLoop) : [])]);
  if (flood) result.flood = { ...counts, perSecond: counts.sent / ((performance.now() - began) / 1000) };
  result.loop = await loopDelay(server);
  result.rss = rssMb(server);
  result.collected = await collectedMemory(server);
  return result;
}

/** Accounts nobody signs in to, written straight into the database (the hash is never checked). */
async function seedUsers(database: string, count: number): Promise<void> {
  const connection = await mongoose.createConnection(database).asPromise();
  try {
    const now = new Date();
    for (let start = 0; start < count; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({
        email: `other.${start + i}@example.com`,
        password: '$2b$10$' + 'x'.repeat(53),
        name: 'Other',
        createdAt: now,
        updatedAt: now,
      }));
      await connection.collection('users').insertMany(batch);
    }
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const { database, redisUrl, drop } = benchTarget('la_flood');
  await seedUsers(database, OTHER_USERS);
  const port = await freePort();
  const server = await startProcess({
    name: 'server',
    script: 'bench/storm-server.ts',
    typescript: true,
    port,
    env: {
      NODE_ENV: 'development',
      MONGODB_URI: database,
      REDIS_URL: redisUrl,
      JWT_SECRET: 'bench-secret-shared-by-every-instance-0123',
      LOG_LEVEL: 'warn',
      // The owner and the attacker are told apart by address, as behind a proxy.
      TRUST_PROXY: 'true',
      // The owner signs in four times a second: the session cap would revoke as much, which is not measured here.
      SESSIONS_PER_USER: '100000',
      // For the memory reading after full collections (storm-server.ts).
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim(),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const owner = { name: 'Flooded', email: `flooded.${Date.now()}@example.com`, password: 'flooded-password-1' };
  const phases: Phase[] = [];
  let rssAtStart: number;
  try {
    const registered = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': OWNER_ADDRESS },
      body: JSON.stringify(owner),
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status}`);
    rssAtStart = rssMb(server);
    if (OTHER_USERS > 0) await warmUp(base, WARM_UP_REQUESTS);
    phases.push(await phase('idle (baseline)', base, server, owner, false));
    await getRefused(base, owner.email, ATTACKER_ADDRESS);
    phases.push(await phase(`flood (${CLIENTS} clients, one address)`, base, server, owner, true));
    phases.push(await phase('after the flood', base, server, owner, false));
  } finally {
    await server.stop();
    await drop();
  }

  const f = (n: number): string => n.toFixed(1);
  const signed = (n: number): string => `${n >= 0 ? '+' : ''}${f(n)}`;
  const [idle] = phases;
  console.log(
    `\nsign-in flood: ${DURATION_MS / 1000} s per phase, ${OTHER_USERS} other accounts, Node ${process.version}, ` +
      `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  console.log(`RSS at start ${f(rssAtStart)} MB`);
  console.log(
    '| phase | flood requests (429 / other), req/s | owner sign-ins ok / failed | owner p50 / p95 / max ms | /health p50 / p99 / max ms, down | event-loop p99 ms | RSS at end MB | after collection: RSS / heap MB |',
  );
  console.log('| --- | --- | --- | --- | --- | ---: | ---: | ---: |');
  for (const p of phases) {
    const flood = p.flood ? `${p.flood.sent} (${p.flood.refused} / ${p.flood.other}), ${f(p.flood.perSecond)}/s` : '–';
    const owner = `${f(percentile(p.ownerMs, 0.5))} / ${f(percentile(p.ownerMs, 0.95))} / ${f(Math.max(0, ...p.ownerMs))}`;
    const health = `${f(percentile(p.healthMs, 0.5))} / ${f(percentile(p.healthMs, 0.99))} / ${f(Math.max(0, ...p.healthMs))}, ${p.healthDown}`;
    const collected = `${f(p.collected.rss)} / ${f(p.collected.heap)}`;
    console.log(`| ${p.name} | ${flood} | ${p.ownerMs.length} / ${p.ownerFailed} | ${owner} | ${health} | ${f(p.loop.p99)} | ${f(p.rss)} | ${collected} |`);
  }
  if (idle) {
    for (const p of phases.slice(1)) {
      console.log(
        `${p.name}: owner p50 ${(percentile(p.ownerMs, 0.5) / percentile(idle.ownerMs, 0.5)).toFixed(2)}x idle, ` +
          `/health p99 ${(percentile(p.healthMs, 0.99) / percentile(idle.healthMs, 0.99)).toFixed(2)}x idle, ` +
          `RSS ${signed(p.rss - idle.rss)} MB, after collection RSS ${signed(p.collected.rss - idle.collected.rss)} MB ` +
          `and heap ${signed(p.collected.heap - idle.collected.heap)} MB against idle`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
