import { describe, expect, it } from 'vitest';
import { PASSWORD, registerUser } from './support/client.js';
import { useTestServer } from './support/server.js';

/** A sign-in storm against a deliberately tiny password pool: one thread, one waiting place. */
describe('the bounded password pool, through HTTP', () => {
  // A cost high enough that the thread is still busy when the rest of the burst arrives.
  const server = useTestServer({ env: { PASSWORD_THREADS: '1', PASSWORD_QUEUE_LIMIT: '1', BCRYPT_ROUNDS: '12' } });
  const BURST = 6;

  /** Fires `BURST` requests at once; each answer's status, Retry-After and error code. */
  async function burst(send: () => Promise<Response>): Promise<Array<{ status: number; retryAfter: string | null; code?: string }>> {
    const responses = await Promise.all(Array.from({ length: BURST }, send));
    return Promise.all(
      responses.map(async (response) => {
        const body = (await response.json()) as { error?: { code: string }; errors?: Array<{ extensions: { code: string } }> };
        const code = body.error?.code ?? body.errors?.[0]?.extensions.code;
        return { status: response.status, retryAfter: response.headers.get('retry-after'), ...(code ? { code } : {}) };
      }),
    );
  }

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After at once beyond the bound, on both APIs, and serves the rest', async () => {
    const user = await registerUser(server.graphqlUrl);
    const login = { email: user.email, password: PASSWORD };

    const rest = await burst(() =>
      fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(login) }),
    );
    const graphql = await burst(() =>
      fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($i: LoginInput!) { login(input: $i) { token } }', variables: { i: login } }),
      }),
    );

    for (const answers of [rest, graphql]) {
      const refused = answers.filter((a) => a.status === 503);
      const served = answers.filter((a) => a.status === 200);
      // One running and one waiting are served; the others are refused, none waits for a slot.
      expect(served.length).toBeGreaterThanOrEqual(2);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(served.length + refused.length).toBe(BURST);
      for (const answer of refused) expect(answer).toEqual({ status: 503, retryAfter: '1', code: 'SERVICE_UNAVAILABLE' });
    }

    // Once the burst is over the pool serves again, and a wrong password is still just that.
    const wrong = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...login, password: 'not the password' }),
    });
    expect(wrong.status).toBe(401);
  });
});
