import { print } from 'graphql';
import { channel } from '../src/pubsub.js';
import { describe, expect, it } from 'vitest';
import { errorCodes, loginUser, ok, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { readToEnd, take } from './support/events.js';
import { LogoutAllDocument, SessionCreatedDocument, SessionRevokedDocument, SessionsDocument } from './support/operations.js';
import { recordCommands, type ServerFixture, useTestServer } from './support/server.js';
import { isEvent, openRestEvents } from './support/sse.js';

const SUBSCRIPTION = print(SessionRevokedDocument);

/** The subscription over SSE with plain fetch: the response as the client gets it. */
async function subscribeOverSse(server: ServerFixture, token: string, signal?: AbortSignal): Promise<Response> {
  return fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: SUBSCRIPTION }),
    ...(signal ? { signal } : {}),
  });
}

/** Nothing of any stream is left on the server: no listener, no running stream, no Redis subscription. */
async function expectNoStreamLeft(server: ServerFixture): Promise<void> {
  await expect.poll(() => server.services.pubsub.listenerCount()).toBe(0);
  await expect.poll(() => server.services.streams.running).toBe(0);
  const channels = (await server.services.redis!.call('PUBSUB', 'CHANNELS', channel('sessionRevoked', '*'))) as string[];
  const counts = channels.length ? ((await server.services.redis!.call('PUBSUB', 'NUMSUB', ...channels)) as Array<string | number>) : [];
  expect(counts.filter((_, i) => i % 2 === 1).map(Number).reduce((a, b) => a + b, 0)).toBe(0);
}

describe('open streams per session and per user', () => {
  const server = useTestServer({ ownRedis: true, env: { STREAMS_PER_SESSION: '2', STREAMS_PER_USER: '3' } });

  it('refuses a stream over the per-session cap with 429 and Retry-After on both APIs, until one closes', async () => {
    const user = await registerUser(server.graphqlUrl);
    const first = await openRestEvents(server, user.token);
    const second = await openRestEvents(server, user.token);

    const rest = await fetch(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await rest.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');

    const graphql = await subscribeOverSse(server, user.token);
    expect(graphql.status).toBe(429);
    expect(Number(graphql.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await graphql.text()).toContain('RATE_LIMITED');

    first.close();
    await expect.poll(async () => {
      const retry = await fetch(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${user.token}` } });
      await retry.body?.cancel();
      return retry.status;
    }).toBe(200);
    second.close();
    await expectNoStreamLeft(server);
  });

  it('counts sessionCreated subscriptions too, which end with their session', async () => {
    const user = await registerUser(server.graphqlUrl);
    const created = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: print(SessionCreatedDocument) }),
    });
    expect(created.status).toBe(200);
    const events = await openRestEvents(server, user.token);
    const refused = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: print(SessionCreatedDocument) }),
    });
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('RATE_LIMITED');
    // Its session's logout ends the sessionCreated stream as well (with `complete`).
    await ok(server.graphqlUrl, LogoutAllDocument, {}, user.token);
    expect(await created.text()).toContain('event: complete');
    await events.readToEnd();
    await expectNoStreamLeft(server);
  });

  it('counts every session of the user toward the per-user cap', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const streams = [await openRestEvents(server, user.token), await openRestEvents(server, user.token), await openRestEvents(server, other.token)];
    const refused = await fetch(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${other.token}` } });
    expect(refused.status).toBe(429);
    // The streams that are open still work: a logoutAll ends each of them with its own event.
    await ok(server.graphqlUrl, LogoutAllDocument, {}, user.token);
    for (const stream of streams) {
      const items = await stream.readToEnd();
      expect(items.filter(isEvent('session-revoked')).at(-1)?.kind).toBe('event');
    }
    await expectNoStreamLeft(server);
  });
});

describe('streams that never start, or whose client leaves during set-up', () => {
  const server = useTestServer({ ownRedis: true });

  it('answers a subscription over a non-SSE transport with 400 and keeps nothing of it', async () => {
    const user = await registerUser(server.graphqlUrl);
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(server.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ query: SUBSCRIPTION }),
        }),
      ),
    );
    for (const response of responses) {
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    }
    await expectNoStreamLeft(server);
    // The caps were not used up by them: a real stream still opens.
    const stream = await openRestEvents(server, user.token);
    stream.close();
    await expectNoStreamLeft(server);
  });

  it('leaves nothing behind when clients disconnect while their streams are being set up', async () => {
    const user = await registerUser(server.graphqlUrl);
    for (let i = 0; i < 20; i += 1) {
      const controller = new AbortController();
      const pending = [
        subscribeOverSse(server, user.token, controller.signal).catch(() => null),
        fetch(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${user.token}` }, signal: controller.signal }).catch(() => null),
      ];
      // Leave at different moments of the set-up: at once, or after the first bytes.
      if (i % 2) await Promise.race(pending);
      controller.abort();
      await Promise.all(pending);
    }
    await expectNoStreamLeft(server);
  });

  it('ends a GraphQL stream the client returns, and gives its place back', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const client = sseClient(server.graphqlUrl, user.token);
    const iterator = revocations(client);
    const first = take(iterator, 1);
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(1);
    await ok(server.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, user.token);
    expect((await first)[0]?.data?.sessionRevoked?.sessionId).toBe(other.session.id);
    await iterator.return?.();
    client.dispose();
    await expectNoStreamLeft(server);
  });
});

describe('active sessions per user', () => {
  const server = useTestServer({ env: { SESSIONS_PER_USER: '3' }, monitorCommands: true });

  it('revokes the oldest session when a sign-in goes beyond the cap, and announces it', async () => {
    const first = await registerUser(server.graphqlUrl);
    const second = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const third = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const client = sseClient(server.graphqlUrl, first.token);
    const events = readToEnd(revocations(client));
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(1);

    const fourth = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    expect((await events).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: first.session.id, reason: 'SESSION_LIMIT', current: true }),
    ]);
    client.dispose();
    const listed = await ok(server.graphqlUrl, SessionsDocument, {}, fourth.token);
    expect(listed.sessions.map((s) => s.id)).toEqual([fourth.session.id, third.session.id, second.session.id]);
  });

  it('keeps the cap for a user who keeps signing in, reading their sessions from MongoDB once', async () => {
    const sessionReads = recordCommands(server, (event) =>
      event.commandName === 'find' && event.command.find === 'sessions' ? JSON.stringify(event.command.filter) : null,
    );
    const first = await registerUser(server.graphqlUrl);
    const signIn = () => loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const later = [await signIn(), await signIn()];
    expect(sessionReads).toEqual([]);
    // Past the cap: one read of the user's sessions, which fills their list in Redis...
    later.push(await signIn());
    expect(sessionReads).toHaveLength(1);
    // ...and then none, sign-in after sign-in, each revoking the oldest.
    for (let i = 0; i < 3; i += 1) later.push(await signIn());
    expect(sessionReads).toHaveLength(1);
    const listed = await ok(server.graphqlUrl, SessionsDocument, {}, later.at(-1)!.token);
    expect(listed.sessions.map((s) => s.id)).toEqual(later.slice(-3).reverse().map((u) => u.session.id));
    for (const gone of [first, ...later.slice(0, -3)]) {
      expect(await errorCodes(server.graphqlUrl, SessionsDocument, {}, gone.token)).toEqual(['UNAUTHENTICATED']);
    }
  });
});
