import { describe, expect, it } from 'vitest';
import { registerUser } from './support/client.js';
import { useTestServer } from './support/server.js';

/**
 * The security timeline is read from MongoDB on every call (the session list
 * and `me` come from Redis): one account reading it in a loop must not slow
 * everyone else down, so each user gets SECURITY_EVENTS_READS_PER_MINUTE reads,
 * counted across both APIs and every instance.
 */
describe('the per-user limit on timeline reads', () => {
  const env = { SECURITY_EVENTS_READS_PER_MINUTE: '3' };
  // A private Redis: the counts of this test start at zero.
  const one = useTestServer({ env, ownRedis: true });
  const two = useTestServer({ env, shareWith: one });

  const restRead = (url: string, token: string): Promise<Response> =>
    fetch(`${url}/api/auth/security-events?limit=5`, { headers: { authorization: `Bearer ${token}` } });
  const gqlRead = (url: string, token: string): Promise<Response> =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ securityEvents(first: 5) { events { type } } }' }),
    });

  it('answers 429 RATE_LIMITED with Retry-After past it, on both APIs and instances, and only to that user', async () => {
    const looper = await registerUser(one.graphqlUrl);
    const bystander = await registerUser(two.graphqlUrl);

    const allowed = [await restRead(one.url, looper.token), await gqlRead(two.url, looper.token), await restRead(two.url, looper.token)];
    expect(allowed.map((r) => r.status)).toEqual([200, 200, 200]);

    const rest = await restRead(one.url, looper.token);
    expect(rest.status).toBe(429);
    const restRetry = Number(rest.headers.get('retry-after'));
    expect(restRetry).toBeGreaterThan(0);
    expect(restRetry).toBeLessThanOrEqual(60);
    expect(await rest.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining(`${restRetry} s`) } });

    const graphql = await gqlRead(two.url, looper.token);
    expect(graphql.status).toBe(429);
    const graphqlRetry = Number(graphql.headers.get('retry-after'));
    expect(graphqlRetry).toBeGreaterThan(0);
    const body = (await graphql.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: graphqlRetry });

    // Another user reads as before, and the looper's other reads (Redis-served) are untouched.
    expect((await restRead(one.url, bystander.token)).status).toBe(200);
    expect((await fetch(`${one.url}/api/auth/sessions`, { headers: { authorization: `Bearer ${looper.token}` } })).status).toBe(200);
  });

  it('counts only reads that go to MongoDB: a refused page (bad input) costs nothing', async () => {
    const user = await registerUser(one.graphqlUrl);
    for (let i = 0; i < 5; i += 1) {
      const bad = await fetch(`${one.url}/api/auth/security-events?limit=0`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(bad.status).toBe(400);
    }
    expect((await restRead(one.url, user.token)).status).toBe(200);
  });
});
