import { describe, expect, it } from 'vitest';
import { gql, PASSWORD, registerUser, uniqueEmail } from './support/client.js';
import { LoginDocument, RegisterDocument } from './support/operations.js';
import { type TestServer, useTestServer } from './support/server.js';

describe('login and registration rate limits', () => {
  const env = { RATE_LIMIT_PER_ACCOUNT: '3', RATE_LIMIT_PER_IP: '6', RATE_LIMIT_WINDOW: '10m', TRUST_PROXY: 'true' };
  // A private Redis: the counters of this test must start at zero.
  const one = useTestServer({ env, ownRedis: true });
  const two = useTestServer({ env, shareWith: one });

  const login = (server: TestServer, email: string, password: string, ip: string) =>
    gql(server.graphqlUrl, LoginDocument, { input: { email, password } }, { headers: { 'x-forwarded-for': ip } });

  it('limits attempts per account across two instances, with 429 and Retry-After', async () => {
    const user = await registerUser(one.graphqlUrl, { email: uniqueEmail('victim') });
    // Three wrong guesses spread over both instances, from three addresses...
    for (const [server, ip] of [[one, '10.0.0.1'], [two, '10.0.0.2'], [one, '10.0.0.3']] as const) {
      expect((await login(server, user.email, 'wrong password', ip)).errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    }
    // ...spend the account's budget everywhere, even for the right password.
    const response = await fetch(two.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.4' },
      body: JSON.stringify({
        query: 'mutation($i: LoginInput!) { login(input: $i) { token } }',
        variables: { i: { email: user.email, password: PASSWORD } },
      }),
    });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    const body = (await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter });
  });

  it('limits attempts per address, and a success does not give the budget back', async () => {
    const ip = '10.9.9.9';
    const mine = await registerUser(one.graphqlUrl, { email: uniqueEmail('mine') });
    const codes: unknown[] = [];
    // Attempts 1-5 from one address on different accounts, one of them a success...
    for (let i = 0; i < 5; i += 1) {
      const email = i === 2 ? mine.email : uniqueEmail(`guess${i}`);
      const password = i === 2 ? PASSWORD : 'wrong password';
      const result = await login(i % 2 ? one : two, email, password, ip);
      codes.push(result.errors?.[0]?.extensions?.code ?? 'OK');
    }
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'OK', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    // ...the 6th is the last allowed, the 7th is refused.
    expect((await login(one, uniqueEmail('g6'), 'wrong password', ip)).errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    expect((await login(two, mine.email, PASSWORD, ip)).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another address is unaffected.
    expect((await login(two, mine.email, PASSWORD, '10.1.1.1')).errors).toBeUndefined();
  });

  it('limits registrations per address too', async () => {
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
});
