import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createMemoryRateLimiter, limitAttempt } from './rate-limit.js';

describe('createMemoryRateLimiter()', () => {
  it('allows `limit` hits per window, then says when the window ends, then opens a new one', async () => {
    let clock = 1_000_000;
    const limiter = createMemoryRateLimiter(() => clock);
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await limiter.hit('k', 3, 60_000));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    clock += 15_000;
    expect(await limiter.hit('k', 3, 60_000)).toEqual({ allowed: false, retryAfterSeconds: 45 });
    clock += 45_000;
    expect((await limiter.hit('k', 3, 60_000)).allowed).toBe(true);
  });
});

describe('limitAttempt()', () => {
  it('refuses when either the account or the address is spent, with the longer wait', async () => {
    const limiter = createMemoryRateLimiter();
    const limits = { windowMs: 60_000, perAccount: 2, perIp: 5 };
    const attempt = { action: 'login' as const, email: 'a@b.co', ip: '10.0.0.1' };
    await limitAttempt(limiter, limits, attempt);
    await limitAttempt(limiter, limits, attempt);
    const error = await limitAttempt(limiter, limits, attempt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    // Another account from the same address still has budget: 3 of 5 used.
    await expect(limitAttempt(limiter, limits, { ...attempt, email: 'c@d.co' })).resolves.toBeUndefined();
  });
});
