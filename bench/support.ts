import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createHttpServer, httpTimeouts } from '../src/http/node-server.js';
import { createApp } from '../src/server.js';
import { startJobs } from '../src/jobs.js';
import { channel, type Topic } from '../src/pubsub.js';
import { createServices, type Services } from '../src/services.js';

/**
 * Services for a benchmark: the real MongoDB-wire server and Redis of
 * MONGODB_URI and REDIS_URL, a throwaway database, silent logs, no rate limits.
 * `done()` drops the database and closes the connections.
 */
export async function benchServices(
  env: Record<string, string> = {},
  /** Another instance's database, to run several instances of one deployment. */
  database = `la_bench_${Date.now()}`,
): Promise<Services & { done(): Promise<void> }> {
  if (!process.env.MONGODB_URI || !process.env.REDIS_URL) {
    console.error('bench: set MONGODB_URI and REDIS_URL (`make ferretdb` prints a MONGODB_URI)');
    process.exit(2);
  }
  const uri = new URL(process.env.MONGODB_URI);
  uri.pathname = `/${database}`;
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    MONGODB_URI: uri.toString(),
    RATE_LIMIT_PER_IP: '1000000',
    RATE_LIMIT_PER_ACCOUNT_ADDRESS: '1000000',
    RATE_LIMIT_PER_ACCOUNT: '1000000',
    LOG_LEVEL: 'silent',
    // One secret for every instance of the run, as in a real deployment.
    JWT_SECRET: 'bench-secret-shared-by-every-instance-0123',
    ...env,
  });
  const services = await createServices(config);
  // As a running instance does (src/main.ts).
  const stopJobs = await startJobs(services);
  return {
    ...services,
    async done() {
      await stopJobs();
      await services.connection.dropDatabase().catch(() => {});
      await services.close();
    },
  };
}

/**
 * Waits until `count` connections listen for `userId` on `topic`, as Redis
 * counts them (PUBSUB NUMSUB): a stream is live once its instance subscribed.
 */
export async function waitForListeners(services: Services, topic: Topic, userId: string, count: number): Promise<void> {
  for (;;) {
    const [, listening] = (await services.redis?.call('PUBSUB', 'NUMSUB', channel(topic, userId))) as [string, number];
    if (Number(listening) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Median and 95th percentile of a list of milliseconds. */
export function percentiles(samples: number[]): { p50: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95) };
}

/** The app of `services` on a free loopback port. */
export async function listen(services: Services): Promise<{ url: string; close(): void }> {
  const server = createHttpServer(createApp(services), httpTimeouts(services.config));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Prints latency rows as p50/p95, each with its ratio to the first row's p50 (the baseline). */
export function printLatencies(title: string, rows: ReadonlyArray<readonly [string, number[]]>): void {
  const base = percentiles(rows[0]![1]);
  console.log(title);
  for (const [name, samples] of rows) {
    const p = percentiles(samples);
    console.log(
      `${name.padEnd(36)} p50 ${p.p50.toFixed(1).padStart(6)} ms  p95 ${p.p95.toFixed(1).padStart(6)} ms   ${(p.p50 / base.p50).toFixed(2)}x baseline p50`,
    );
  }
}
