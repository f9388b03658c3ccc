import { expect, it } from 'vitest';
import { newCredentials, PASSWORD } from '../support/client.js';
import { restClient, restError, statusAndBody, type RestAuth, type RestSession } from '../support/rest.js';
import { type RedisChoice, useTestServer } from '../support/server.js';
import { listen, type SourceItem } from '../support/sse.js';
import { waitForSubscribers } from '../support/events.js';

/** Items from an EventSource until one matches; fails if the stream gives something else first. */
async function nextOf(source: ReturnType<typeof listen>, type: SourceItem['type']): Promise<SourceItem> {
  const [item] = await source.next();
  expect(item?.type).toBe(type);
  return item!;
}

/**
 * The seed flow over REST, with curl and a browser-style EventSource, on the
 * run's Redis or a cluster with `on`. Registers its server and tests in the
 * calling describe block.
 */
export function restSeedFlows(on: RedisChoice = {}): void {
  const server = useTestServer(on);
  // docs/rest.md's examples are curl command lines: the same requests, sent with curl.
  const curl = restClient(server, { via: 'curl' });
  const events = (token: string): string => `${server.url}/api/auth/events?token=${token}`;

  it('register → login twice → 3 sessions → logout-all reaches the listening device at once → every token is 401', async () => {
    const { email: address } = newCredentials('flow');
    const registered = await curl.call('POST', '/api/auth/register', { json: { name: 'John Doe', email: address, password: PASSWORD } });
    expect(registered.status).toBe(201);
    const first = registered.body as RestAuth;
    const loginA = await curl.call('POST', '/api/auth/login', { json: { email: address, password: PASSWORD } });
    const loginB = await curl.call('POST', '/api/auth/login', { json: { email: address, password: PASSWORD, deviceInfo: 'Device B' } });
    expect([loginA.status, loginB.status]).toEqual([200, 200]);
    const a = loginA.body as RestAuth;
    const b = loginB.body as RestAuth;

    const listed = await curl.call('GET', '/api/auth/sessions', { token: a.token });
    expect(listed.status).toBe(200);
    const { sessions } = listed.body as { sessions: RestSession[] };
    expect(sessions.map((s) => s.id)).toEqual([b.session.id, a.session.id, first.session.id]);
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([a.session.id]);
    // No deviceInfo sent: it comes from curl's User-Agent.
    expect(sessions.map((s) => s.deviceInfo)).toEqual(['Device B', expect.stringMatching(/^curl \d/), expect.stringMatching(/^curl \d/)]);

    // Device B listens as a browser would: EventSource, token in the query.
    const deviceB = listen(events(b.token));
    expect(await nextOf(deviceB, 'connected')).toMatchObject({ id: '1', data: { sessionId: b.session.id, userId: first.user.id } });

    const loggedOut = await curl.call('POST', '/api/auth/logout-all', { token: a.token });
    expect(loggedOut.status).toBe(200);
    expect(loggedOut.body).toEqual({ success: true, revokedCount: 3, revokedSessionIds: expect.any(Array) });
    expect((loggedOut.body as { revokedSessionIds: string[] }).revokedSessionIds.sort()).toEqual(
      [first.session.id, a.session.id, b.session.id].sort(),
    );

    // B is told, and its own revocation is the last event it gets. (How fast: bench/revocation-latency.ts;
    // a pass/fail test waits for the event, never for the clock.)
    let own: SourceItem | undefined;
    while (!own) {
      const [item] = await deviceB.next(1);
      expect(item).toMatchObject({ type: 'session-revoked', data: { reason: 'LOGOUT_ALL' } });
      if (item?.type === 'session-revoked' && item.data.current === true) own = item;
    }
    expect(own).toMatchObject({ data: { sessionId: b.session.id, current: true, revokedAt: expect.any(String) } });
    // The server ended the stream (readyState CONNECTING), and the reconnection is refused: the source stops.
    expect(await deviceB.next()).toEqual([{ type: 'error', status: undefined, readyState: 0 }]);
    expect(await deviceB.next()).toEqual([{ type: 'error', status: 401, readyState: 2 }]);
    deviceB.close();
    await waitForSubscribers(server.services, first.user.id, 0);

    for (const token of [first.token, a.token, b.token]) {
      for (const [path, method] of [['sessions', 'GET'], ['me', 'GET'], ['logout', 'POST']] as const) {
        const reply = await curl.call(method, `/api/auth/${path}`, { token });
        expect(statusAndBody(reply)).toEqual({ status: 401, body: restError('UNAUTHENTICATED') });
      }
    }
  });

  it('logout and DELETE sessions/:id tell the user\'s other listeners; another user\'s session is 404 and left alone', async () => {
    const { email: address } = newCredentials('flow');
    const first = (await curl.call('POST', '/api/auth/register', { json: { name: 'Jane', email: address, password: PASSWORD } })).body as RestAuth;
    const second = (await curl.call('POST', '/api/auth/login', { json: { email: address, password: PASSWORD } })).body as RestAuth;
    const third = (await curl.call('POST', '/api/auth/login', { json: { email: address, password: PASSWORD } })).body as RestAuth;
    const { email: strangerAddress } = newCredentials('flow');
    const stranger = (await curl.call('POST', '/api/auth/register', { json: { name: 'Eve', email: strangerAddress, password: PASSWORD } })).body as RestAuth;

    const listener = listen(events(first.token));
    const strangerListener = listen(events(stranger.token));
    await nextOf(listener, 'connected');
    await nextOf(strangerListener, 'connected');

    expect(statusAndBody(await curl.call('POST', '/api/auth/logout', { token: second.token }))).toEqual({ status: 200, body: { success: true } });
    expect(await nextOf(listener, 'session-revoked')).toMatchObject({
      id: '2',
      data: { sessionId: second.session.id, reason: 'LOGOUT', current: false },
    });

    expect(statusAndBody(await curl.call('DELETE', `/api/auth/sessions/${third.session.id}`, { token: first.token }))).toEqual({ status: 200, body: { success: true } });
    expect(await nextOf(listener, 'session-revoked')).toMatchObject({
      id: '3',
      data: { sessionId: third.session.id, reason: 'REVOKED', current: false },
    });

    const foreign = await curl.call('DELETE', `/api/auth/sessions/${stranger.session.id}`, { token: first.token });
    expect(statusAndBody(foreign)).toEqual({ status: 404, body: restError('NOT_FOUND') });
    expect((await curl.call('GET', '/api/auth/me', { token: stranger.token })).status).toBe(200);
    // The stranger's next event is one it caused itself: nothing came of the refused attempt.
    const strangerPhone = (await curl.call('POST', '/api/auth/login', { json: { email: strangerAddress, password: PASSWORD } })).body as RestAuth;
    expect((await curl.call('POST', '/api/auth/logout', { token: strangerPhone.token })).status).toBe(200);
    expect(await nextOf(strangerListener, 'session-revoked')).toMatchObject({ data: { sessionId: strangerPhone.session.id, reason: 'LOGOUT' } });

    listener.close();
    strangerListener.close();
    await waitForSubscribers(server.services, first.user.id, 0);
    await waitForSubscribers(server.services, stranger.user.id, 0);
  });
}
