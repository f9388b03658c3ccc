import { describe, expect, it } from 'vitest';
import { drainServer } from '../src/http/node-server.js';
import type { SessionCache } from '../src/auth/session-cache.js';
import { loginUser, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { readToEnd } from './support/events.js';
import { useTestServer } from './support/server.js';

describe('draining on SIGTERM', () => {
  const server = useTestServer();

  it('stops accepting, lets an in-flight request finish, and ends every stream cleanly', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const rest = await fetch(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${user.token}` } });
    // Resolves only if the server ends the response properly; a reset connection rejects it.
    const restBody = rest.text();
    const client = sseClient(server.graphqlUrl, other.token);
    const graphql = readToEnd(revocations(client));
    await expect.poll(() => server.services.streams.running).toBe(2);

    // A request caught in the middle: its session check waits until released.
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = (): void => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const real: SessionCache = server.services.cache;
    server.services.cache = {
      ...real,
      async lookup(sessionId, userId) {
        entered();
        await gate;
        return real.lookup(sessionId, userId);
      },
    };
    const slow = fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${user.token}`, connection: 'close' } });
    await inside;

    const drained = drainServer(server.http, server.services.streams, 10_000);
    // REST: the response ends (no reset); GraphQL: `complete`, so the client's iteration ends without error.
    expect(await restBody).toMatch(/^id: 1\nevent: connected\n/);
    expect(await graphql).toEqual([]);
    client.dispose();
    // No new connections.
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();

    release();
    server.services.cache = real;
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { user: { id: string } }).user.id).toBe(user.user.id);
    await drained;
    expect(server.services.streams.running).toBe(0);
  });
});
