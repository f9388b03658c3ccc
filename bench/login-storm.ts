/**
 * A login storm: 50 clients signing in as fast as they can at the default
 * bcrypt cost, while /health is sampled every 10 ms. Run three ways in one
 * run: hashing on the event loop (PASSWORD_THREADS=0, the old design), one
 * worker thread (the single-thread baseline), and the default pool (one
 * thread per core), with the pool's server also sampled idle for the
 * machine's own noise. Then a burst beyond the queue bound, which must be
 * answered 503 + Retry-After at once.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/login-storm.ts
 *
 * BENCH_DURATION seconds per storm (8), BENCH_CLIENTS (50).
 * Targets (default pool): event-loop delay p99 < 20 ms, /health p99 < 50 ms,
 * logins/s ≥ 1.6× one thread on 2 cores.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchTarget, freePort, startProcess, type Started } from './processes.js';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 8) * 1000;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);

const percentile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};

function ask(server: Started, message: string): Promise<{ p50: number; p99: number; max: number }> {
  return new Promise((resolve) => {
    server.child.once('message', (reply) => resolve(reply as { p50: number; p99: number; max: number }));
    server.child.send(message);
  });
}

interface StormResult {
  threads: string;
  logins: number;
  loginsPerSecond: number;
  loginP50: number;
  healthP50: number;
  healthP99: number;
  loopP99: number;
  loopMax: number;
  other: number;
}

/** `clients` sign-in loops (0: none, the idle baseline) with /health sampled throughout. */
async function storm(base: string, server: Started, email: string, password: string, threads: string, clients = CLIENTS): Promise<StormResult> {
  const body = JSON.stringify({ email, password });
  const loginTimes: number[] = [];
  const healthTimes: number[] = [];
  let other = 0;
  server.child.send('reset');
  const end = performance.now() + DURATION_MS;
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      const started = performance.now();
      const response = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      if (response.status === 200) loginTimes.push(performance.now() - started);
      else other += 1;
    }
  };
  const sampler = async (): Promise<void> => {
    while (performance.now() < end) {
      const started = performance.now();
      await (await fetch(`${base}/health`)).arrayBuffer();
      healthTimes.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const began = performance.now();
  await Promise.all([...Array.from({ length: clients }, client), sampler()]);
  const seconds = (performance.now() - began) / 1000;
  const loop = await ask(server, 'report');
  return {
    threads,
    logins: loginTimes.length,
    loginsPerSecond: loginTimes.length / seconds,
    loginP50: percentile(loginTimes, 0.5),
    healthP50: percentile(healthTimes, 0.5),
    healthP99: percentile(healthTimes, 0.99),
    loopP99: loop.p99,
    loopMax: loop.max,
    other,
  };
}

async function main(): Promise<void> {
  const { database, redisUrl, drop } = benchTarget('la_storm');
  const credentials = { name: 'Storm', email: `storm.${Date.now()}@example.com`, password: 'storm-password-1' };
  const results: StormResult[] = [];
  let overBound: { sent: number; refused: number; withRetryAfter: number; slowestRefusalMs: number; served: number } | undefined;
  const env = (threads: string, queue = '64') => ({
    NODE_ENV: 'development',
    MONGODB_URI: database,
    REDIS_URL: redisUrl,
    JWT_SECRET: 'bench-secret-shared-by-every-instance-0123',
    RATE_LIMIT_PER_IP: '1000000',
    RATE_LIMIT_PER_ACCOUNT_ADDRESS: '1000000',
    RATE_LIMIT_PER_ACCOUNT: '1000000',
    LOG_LEVEL: 'warn',
    PASSWORD_THREADS: threads,
    PASSWORD_QUEUE_LIMIT: queue,
  });
  for (const threads of ['0', '1', String(availableParallelism())]) {
    const port = await freePort();
    const server = await startProcess({ name: `server (${threads} threads)`, script: 'bench/storm-server.ts', typescript: true, port, env: env(threads) });
    const base = `http://127.0.0.1:${port}`;
    try {
      if (results.length === 0) {
        const response = await fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) });
        if (response.status !== 201) throw new Error(`register: ${response.status}`);
      }
      const pool = threads === String(availableParallelism());
      // The machine's own noise, measured in this run: the same server with no sign-ins at all.
      if (pool) results.push(await storm(base, server, credentials.email, credentials.password, `${threads}, idle (no logins)`, 0));
      results.push(await storm(base, server, credentials.email, credentials.password, threads === '0' ? 'event loop (0)' : threads));
      process.stderr.write(`storm with ${threads} threads done\n`);

      if (pool) {
        // Beyond the bound: threads + 64 may wait; send twice that at once.
        const sent = 2 * (availableParallelism() + 64);
        const body = JSON.stringify({ email: credentials.email, password: credentials.password });
        const answers = await Promise.all(
          Array.from({ length: sent }, async () => {
            const started = performance.now();
            const response = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            await response.arrayBuffer();
            return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: performance.now() - started };
          }),
        );
        const refused = answers.filter((a) => a.status === 503);
        overBound = {
          sent,
          refused: refused.length,
          withRetryAfter: refused.filter((a) => a.retryAfter !== null).length,
          slowestRefusalMs: Math.max(0, ...refused.map((a) => a.ms)),
          served: answers.filter((a) => a.status === 200).length,
        };
      }
    } finally {
      await server.stop();
    }
  }
  await drop();

  console.log(`\nlogin storm: ${CLIENTS} clients x ${DURATION_MS / 1000} s, BCRYPT_ROUNDS=10, ${availableParallelism()} cores, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| password threads | logins | logins/s | login p50 ms | /health p50 ms | /health p99 ms | event-loop delay p99 ms | max ms | non-200 |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const f = (n: number) => n.toFixed(1);
  for (const r of results) {
    console.log(`| ${r.threads} | ${r.logins} | ${f(r.loginsPerSecond)} | ${f(r.loginP50)} | ${f(r.healthP50)} | ${f(r.healthP99)} | ${f(r.loopP99)} | ${f(r.loopMax)} | ${r.other} |`);
  }
  const [, single, , pool] = results;
  if (single && pool) {
    console.log(`\npool / one thread: ${(pool.loginsPerSecond / single.loginsPerSecond).toFixed(2)}x logins/s (target ≥ 1.6 on 2 cores)`);
    console.log(`pool: event-loop delay p99 ${f(pool.loopP99)} ms (target < 20), /health p99 ${f(pool.healthP99)} ms (target < 50)`);
  }
  if (overBound) {
    console.log(
      `over the bound: ${overBound.sent} logins at once → ${overBound.served} served, ${overBound.refused} refused with 503 ` +
        `(${overBound.withRetryAfter} with Retry-After), slowest refusal ${f(overBound.slowestRefusalMs)} ms`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
