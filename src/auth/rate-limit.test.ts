import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createSignInLimiter } from './rate-limit.js';

const limits = { windowMs: 60_000, perAccountAddress: 3, perAccount: 5, perIp: 8 };
const refusal = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'allowed', (e: unknown) => e);

describe('createSignInLimiter() in memory', () => {
  it('refuses an account from an address after its failures, and a success there clears them', async () => {
    const limiter = createSignInLimiter(limits, null);
    const key = { email: 'a@b.co', ip: '10.0.0.1' };
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
    await expect(limiter.checkSignIn({ ...key, email: 'c@d.co' })).resolves.toBeUndefined();
  });

  it('refuses an address failing across many accounts', async () => {
    const limiter = createSignInLimiter(limits, null);
    for (let i = 0; i < limits.perIp; i += 1) await limiter.recordFailure({ email: `u${i}@b.co`, ip: '10.0.0.9' });
    expect(await refusal(limiter.checkSignIn({ email: 'fresh@b.co', ip: '10.0.0.9' }))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('slows an account attacked from many addresses to one failure per address, and never locks out a clean address', async () => {
    const limiter = createSignInLimiter(limits, null);
    const email = 'victim@b.co';
    for (let i = 0; i < limits.perAccount; i += 1) await limiter.recordFailure({ email, ip: `10.1.0.${i}` });
    // Those addresses have each failed once: under attack, that is their budget.
    expect(await refusal(limiter.checkSignIn({ email, ip: '10.1.0.0' }))).toMatchObject({ code: 'RATE_LIMITED' });
    // An address that has not failed still gets its attempt.
    await expect(limiter.checkSignIn({ email, ip: '192.168.1.1' })).resolves.toBeUndefined();
  });

  it('counts every registration from an address', async () => {
    const limiter = createSignInLimiter({ ...limits, perIp: 2 }, null);
    await limiter.checkRegistration('10.0.0.1');
    await limiter.checkRegistration('10.0.0.1');
    expect(await refusal(limiter.checkRegistration('10.0.0.1'))).toMatchObject({ code: 'RATE_LIMITED' });
    await expect(limiter.checkRegistration('10.0.0.2')).resolves.toBeUndefined();
  });
});
