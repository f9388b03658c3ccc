import { expect, it } from 'vitest';
import { gql, PASSWORD, registerUser, uniqueEmail } from '../support/client.js';
import { LoginDocument, RegisterDocument } from '../support/operations.js';
import { privateRedis, type RedisChoice, type ServerFixture, type TestServer, useTestServer } from '../support/server.js';

/**
 * Sign-in throttling as issue 8 asks: failures only, keyed so that an attacker
 * spends his own budget. Two instances share one private Redis (or, with `on`,
 * the test file's cluster), so every limit is shown to hold across instances.
 * Registers its servers and tests in the calling describe block; returns the
 * first instance and its GraphQL sign-in.
 */
export function signInThrottlingFlows(on: RedisChoice = {}): {
  one: ServerFixture;
  login: (server: TestServer, email: string, password: string, ip: string) => Promise<string>;
} {
  const env = {
    RATE_LIMIT_PER_ACCOUNT_ADDRESS: '3',
    RATE_LIMIT_PER_ACCOUNT: '5',
    RATE_LIMIT_PER_IP: '6',
    RATE_LIMIT_WINDOW: '10m',
    TRUST_PROXY: 'true',
  };
  // A private Redis: the counters of this test must start at zero.
  const one = useTestServer({ env, ...privateRedis(on) });
  const two = useTestServer({ env, shareWith: one });

  const login = async (server: TestServer, email: string, password: string, ip: string): Promise<string> => {
    const result = await gql(server.graphqlUrl, LoginDocument, { input: { email, password } }, { headers: { 'x-forwarded-for': ip } });
    return String(result.errors?.[0]?.extensions?.code ?? 'OK');
  };
  const restLogin = (server: TestServer, email: string, password: string, ip: string) =>
    fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ email, password }),
    });

  it('never counts successes: 24 devices of one user sign in at once from one address', async () => {
    const user = await registerUser(one.graphqlUrl, { email: uniqueEmail('family') });
    const codes = await Promise.all(Array.from({ length: 24 }, (_, i) => login(i % 2 ? one : two, user.email, PASSWORD, '10.2.0.1')));
    expect(codes).toEqual(Array(24).fill('OK'));
  });

  it('refuses an account from the guessing address only; the owner signs in from a clean one', async () => {
    const user = await registerUser(one.graphqlUrl, { email: uniqueEmail('victim') });
    const attacker = '10.0.0.66';
    const guesses = [];
    for (const server of [one, two, one]) guesses.push(await login(server, user.email, 'wrong password', attacker));
    expect(guesses).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    // The guessing address is refused for this account, even with the right password, on both APIs...
    const refused = await restLogin(two, user.email, PASSWORD, attacker);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(await refused.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining(`${retryAfter} s`) } });
    const response = await fetch(one.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': attacker },
      body: JSON.stringify({ query: 'mutation($i: LoginInput!) { login(input: $i) { token } }', variables: { i: { email: user.email, password: PASSWORD } } }),
    });
    expect(response.status).toBe(429);
    const body = (await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: Number(response.headers.get('retry-after')) });
    // ...while the owner, from an address that has not failed, signs in on either instance.
    expect(await login(one, user.email, PASSWORD, '10.0.0.1')).toBe('OK');
    expect(await login(two, user.email, PASSWORD, '10.0.0.2')).toBe('OK');
  });

  it('lets a success clear the failures of that account and address', async () => {
    const user = await registerUser(one.graphqlUrl, { email: uniqueEmail('typo') });
    const ip = '10.3.0.1';
    const codes = [];
    for (const password of ['typo 1', 'typo 2', PASSWORD, 'typo 3', 'typo 4', 'typo 5', PASSWORD]) codes.push(await login(one, user.email, password, ip));
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'OK', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
  });

  it('refuses an address that fails across many accounts (credential stuffing), and only that address', async () => {
    const stuffer = '10.9.9.9';
    const mine = await registerUser(one.graphqlUrl, { email: uniqueEmail('mine') });
    const codes = [];
    for (let i = 0; i < 6; i += 1) codes.push(await login(i % 2 ? one : two, uniqueEmail(`stuffed${i}`), 'leaked password', stuffer));
    expect(codes).toEqual(Array(6).fill('INVALID_CREDENTIALS'));
    expect(await login(two, mine.email, PASSWORD, stuffer)).toBe('RATE_LIMITED');
    expect(await login(two, mine.email, PASSWORD, '10.1.1.1')).toBe('OK');
  });

  it('slows down, never locks, an account attacked from many addresses', async () => {
    const user = await registerUser(one.graphqlUrl, { email: uniqueEmail('botnet') });
    const codes = [];
    // Five addresses fail once each: the account is now under attack...
    for (let i = 0; i < 5; i += 1) codes.push(await login(i % 2 ? one : two, user.email, 'wrong password', `10.5.0.${i}`));
    expect(codes).toEqual(Array(5).fill('INVALID_CREDENTIALS'));
    // ...so each of those addresses has spent its budget on it (one failure, not three)...
    expect(await login(one, user.email, 'another guess', '10.5.0.0')).toBe('RATE_LIMITED');
    // ...a new address still gets its guess...
    expect(await login(two, user.email, 'yet another guess', '10.5.0.99')).toBe('INVALID_CREDENTIALS');
    // ...and the owner, from a clean address, signs in.
    expect(await login(one, user.email, PASSWORD, '192.168.7.7')).toBe('OK');
  });

  it('limits registrations per address', async () => {
    const ip = '10.7.7.7';
    const codes: unknown[] = [];
    for (let i = 0; i < 7; i += 1) {
      const result = await gql(
        one.graphqlUrl,
        RegisterDocument,
        { input: { name: 'Bot', email: uniqueEmail('bot'), password: PASSWORD } },
        { headers: { 'x-forwarded-for': ip } },
      );
      codes.push(result.errors?.[0]?.extensions?.code ?? 'OK');
    }
    expect(codes).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'RATE_LIMITED']);
  });

  return { one, login };
}
