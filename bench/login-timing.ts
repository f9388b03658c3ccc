/**
 * No user enumeration by timing: a login for an unknown email must cost about
 * what a wrong password for a real account costs (both pay one bcrypt
 * comparison; the unknown email compares against a dummy hash).
 *
 *   MONGODB_URI=… REDIS_URL=… npx tsx bench/login-timing.ts
 *
 * Baseline: a wrong password for an existing account, measured in this run.
 * Printed: the unknown-email time as a ratio of it (1.00 = indistinguishable),
 * and, for scale, what skipping bcrypt would look like (an invalid email that
 * fails validation before any lookup).
 */
import { performance } from 'node:perf_hooks';
import { login, register } from '../src/resolvers/auth.js';
import { benchServices } from './support.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const request = { ipAddress: '127.0.0.1', userAgent: 'bench' };

async function median(fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i += 1) {
    const start = performance.now();
    await fn().catch(() => undefined);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const services = await benchServices();
  const { config } = services;
  try {
    const email = `timing.${Date.now()}@example.com`;
    await register(services, { name: 'Timing', email, password: 'the real password' }, request);
    const guess = (e: string) => () => login(services, { email: e, password: 'a wrong password' }, request);
    await median(guess(email)); // warm-up, also builds the dummy hash
    const wrongPassword = await median(guess(email));
    const unknownEmail = await median(guess(`nobody.${Date.now()}@example.com`));
    const invalid = await median(guess('not-an-email'));
    console.log(`login timing, bcrypt cost ${config.bcryptRounds}, median of ${ITERATIONS}, Node ${process.version}`);
    console.log(`wrong password (baseline)   ${wrongPassword.toFixed(2).padStart(8)} ms   1.00x`);
    console.log(`unknown email               ${unknownEmail.toFixed(2).padStart(8)} ms   ${(unknownEmail / wrongPassword).toFixed(2)}x`);
    console.log(`invalid email (no lookup)   ${invalid.toFixed(2).padStart(8)} ms   ${(invalid / wrongPassword).toFixed(2)}x`);
  } finally {
    await services.done();
  }
}

void main();
