import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, useOwnRedisClient, type OwnRedis } from '../../test/support/redis-server.js';
import { AppError } from '../errors.js';
import { createRateLimiter, createSignInLimiter, type RateLimiter, type SignInLimits } from './rate-limit.js';

const redis = useOwnRedisClient();

const limits = { windowMs: 60_000, perAccountAddress: 3, perAccount: 5, perIp: 8 };
const refusal = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'allowed', (e: unknown) => e);

// The same contract for both stores: the development default must behave like production.
describe.each([
  ['Redis', (limits: SignInLimits) => createSignInLimiter(limits, redis())],
  ['memory', (limits: SignInLimits) => createSignInLimiter(limits, null)],
] as const)('createSignInLimiter() on %s', (_name, make) => {
  // Keys unique per run: the Redis store outlives one limiter.
  const id = (): string => randomUUID().slice(0, 8);

  it('refuses an account from an address after its failures, and a success there clears them', async () => {
    const limiter = make(limits);
    const key = { email: `a.${id()}@b.co`, ip: '10.0.0.1' };
    for (let i = 0; i < 2; i += 1) {
      await limiter.checkSignIn(key);
      await limiter.recordFailure(key);
    }
    await limiter.recordSuccess(key);
    for (let i = 0; i < 3; i += 1) {
      await limiter.checkSignIn(key);
      await limiter.recordFailure(key);
    }
    const error = await refusal(limiter.checkSignIn(key));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    // The same account from another address, and another account from this one, are untouched.
    await expect(limiter.checkSignIn({ ...key, ip: '10.0.0.2' })).resolves.toBeUndefined();
    await expect(limiter.checkSignIn({ ...key, email: `c.${id()}@d.co` })).resolves.toBeUndefined();
  });

  it('refuses an address failing across many accounts', async () => {
    const limiter = make(limits);
    const ip = `10.9.${id()}`;
    for (let i = 0; i < limits.perIp; i += 1) await limiter.recordFailure({ email: `u${i}@b.co`, ip });
    expect(await refusal(limiter.checkSignIn({ email: 'fresh@b.co', ip }))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('slows an account attacked from many addresses to one failure per address, and never locks out a clean address', async () => {
    const limiter = make(limits);
    const email = `victim.${id()}@b.co`;
    for (let i = 0; i < limits.perAccount; i += 1) await limiter.recordFailure({ email, ip: `10.1.0.${i}` });
    // Those addresses have each failed once: under attack, that is their budget.
    expect(await refusal(limiter.checkSignIn({ email, ip: '10.1.0.0' }))).toMatchObject({ code: 'RATE_LIMITED' });
    // An address that has not failed still gets its attempt.
    await expect(limiter.checkSignIn({ email, ip: '192.168.1.1' })).resolves.toBeUndefined();
  });

  it('counts every registration from an address', async () => {
    const limiter = make({ ...limits, perIp: 2 });
    const [ip, other] = [id(), id()];
    await limiter.checkRegistration(ip);
    await limiter.checkRegistration(ip);
    expect(await refusal(limiter.checkRegistration(ip))).toMatchObject({ code: 'RATE_LIMITED' });
    await expect(limiter.checkRegistration(other)).resolves.toBeUndefined();
  });
});

describe.each([
  ['Redis', () => createRateLimiter(redis())],
  ['memory', () => createRateLimiter(null)],
] as const)('createRateLimiter() on %s', (_name, make: () => RateLimiter) => {
  it('allows `limit` hits of a key per window, then refuses with the seconds left in the window', async () => {
    const limiter = make();
    const key = randomUUID();
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await limiter.hit(key, 3, 60_000));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    for (const d of decisions) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    for (const d of decisions) expect(d.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('counts each key, and each (limit, window), apart', async () => {
    const limiter = make();
    const [key, other] = [randomUUID(), randomUUID()];
    expect((await limiter.hit(key, 1, 60_000)).allowed).toBe(true);
    expect((await limiter.hit(key, 1, 60_000)).allowed).toBe(false);
    expect((await limiter.hit(other, 1, 60_000)).allowed).toBe(true);
    // Another use of the same key with its own limit has its own count.
    expect((await limiter.hit(key, 5, 60_000)).allowed).toBe(true);
  });
});

describe('createSignInLimiter() across a Redis outage', () => {
  let own: OwnRedis;
  let client: Redis;
  beforeAll(async () => {
    own = await startOwnRedis();
    // As the server connects (src/services.ts): commands fail at once while Redis is away.
    client = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => {});
  });
  afterAll(async () => {
    client.disconnect();
    await own.stop();
  });

  it('keeps counting failures from the outage once Redis is back, until a success clears them', async () => {
    const limiter = createSignInLimiter(limits, client);
    const key = { email: `outage.${randomUUID().slice(0, 8)}@b.co`, ip: '10.0.0.1' };
    await limiter.recordFailure(key);
    await own.stop();
    try {
      await limiter.recordFailure(key);
      await limiter.recordFailure(key);
      expect(await refusal(limiter.checkSignIn(key))).toMatchObject({ code: 'RATE_LIMITED' });
    } finally {
      await own.start();
    }
    await expect.poll(() => client.status, { timeout: 15_000 }).toBe('ready');
    // One failure in Redis (from before), two in memory: all three still count.
    expect(await refusal(limiter.checkSignIn(key))).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    await limiter.recordSuccess(key);
    await expect(limiter.checkSignIn(key)).resolves.toBeUndefined();
  });
});
