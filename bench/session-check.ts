/**
 * Benchmarks of the per-request session check, the path every authenticated
 * request takes. Each figure is measured in this run, against a baseline
 * measured in this same run, and printed as a ratio.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/session-check.ts
 *
 * What it measures (in-process, real MongoDB-wire server and real Redis over TCP):
 *  - baseline: the check as a MongoDB-only design would do it (verify the JWT,
 *    then findOne the session by sessionId), i.e. our cold-cache path;
 *  - warm: `authenticate()` with the session cached in Redis (one round trip);
 *  - http: a full GraphQL request (`{ __typename }` with a Bearer token) through
 *    the HTTP server, to show how much of a request the check is.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isActive } from '../src/models/session.js';
import { authenticate } from '../src/auth/authenticate.js';
import { register } from '../src/resolvers/auth.js';
import { createHttpServer, httpTimeouts } from '../src/http/node-server.js';
import { createApp } from '../src/server.js';
import { verifyToken } from '../src/auth/token.js';
import { benchServices } from './support.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
const ROUNDS = 3;

async function measure(name: string, fn: () => Promise<unknown>): Promise<{ name: string; perOpUs: number }> {
  for (let i = 0; i < 100; i += 1) await fn(); // warm-up
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i += 1) await fn();
    samples.push(((performance.now() - start) * 1000) / ITERATIONS);
  }
  samples.sort((a, b) => a - b);
  return { name, perOpUs: samples[Math.floor(samples.length / 2)] ?? 0 };
}

async function main(): Promise<void> {
  const services = await benchServices({ BCRYPT_ROUNDS: '4' });
  const server = createHttpServer(createApp(services), httpTimeouts(services.config));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  try {
    const { token } = await register(
      services,
      { name: 'Bench', email: `bench.${Date.now()}@example.com`, password: 'bench-password' },
      { ipAddress: '127.0.0.1', userAgent: 'bench' },
    );

    const baseline = await measure('baseline: JWT + MongoDB findOne', async () => {
      const claims = verifyToken(token, services.tokenKeys);
      if (!claims) throw new Error('bad token');
      const session = await services.models.Session.findOne({ sessionId: claims.sessionId }).lean();
      if (!session || !isActive(session)) throw new Error('inactive');
    });
    const warm = await measure('authenticate(), warm Redis cache', async () => {
      if (!(await authenticate(services, token)).viewer) throw new Error('rejected');
    });
    const http = await measure('HTTP { __typename } with token', async () => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{"query":"{ __typename }"}',
      });
      await response.text();
    });

    console.log(`session check, ${ROUNDS} rounds x ${ITERATIONS} sequential calls, median per call`);
    console.log(`MongoDB-wire: ${process.env.MONGODB_URI}  Redis: ${process.env.REDIS_URL}  Node ${process.version}`);
    for (const row of [baseline, warm, http]) {
      console.log(
        `${row.name.padEnd(36)} ${row.perOpUs.toFixed(1).padStart(9)} µs/op   ${(baseline.perOpUs / row.perOpUs).toFixed(2)}x baseline speed`,
      );
    }
  } finally {
    server.closeAllConnections();
    server.close();
    await services.done();
  }
}

void main();
