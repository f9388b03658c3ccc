import { describe, expect, it } from 'vitest';
import { signInThrottlingFlows } from './flows/sign-in-throttling.js';
import { PASSWORD, registerUser, uniqueEmail } from './support/client.js';

describe('sign-in throttling stops attackers, not owners', () => {
  const { one, login } = signInThrottlingFlows();

  it('keeps counting in memory while Redis is unreachable: an outage neither lifts the limit nor locks the owner out', async () => {
    const user = await registerUser(one.graphqlUrl, { email: uniqueEmail('outage') });
    await one.redis.stop();
    try {
      const codes = [];
      for (let i = 0; i < 4; i += 1) codes.push(await login(one, user.email, 'wrong password', '10.8.0.1'));
      expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
      expect(await login(one, user.email, PASSWORD, '10.8.0.2')).toBe('OK');
    } finally {
      await one.redis.start();
    }
  });
});
