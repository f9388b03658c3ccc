import { print } from 'graphql';
import { expect, it } from 'vitest';
import { loginUser, ok, PASSWORD, registerUser } from '../support/client.js';
import { expectNoStreamLeft } from '../support/events.js';
import { LogoutAllDocument, SessionCreatedDocument } from '../support/operations.js';
import { privateRedis, type RedisChoice, useTestServer } from '../support/server.js';
import { isEvent, openRestEvents, subscribeOverSse } from '../support/sse.js';

/**
 * The open-stream caps per session and per user (leases in Redis, one script
 * per stream on the user's slot): on a private Redis server, or a cluster with
 * `on`. Registers its server and tests in the calling describe block.
 */
export function streamCapFlows(on: RedisChoice = {}): void {
  const server = useTestServer({ ...privateRedis(on), env: { STREAMS_PER_SESSION: '2', STREAMS_PER_USER: '3' } });

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
}
