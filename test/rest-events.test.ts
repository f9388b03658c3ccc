import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useTestServer } from './support/server.js';
import { holdSubscription } from './support/pubsub.js';
import { restClient, restError, type RestAuth, type RestClient } from './support/rest.js';
import {
  eventData,
  isEvent,
  listen,
  nextClientGone,
  openEventStream,
  SseParser,
  type SseItem,
} from './support/sse.js';
import { waitForSubscribers } from './support/events.js';

/** A user with `devices` sessions (the first from register), over REST. */
async function userWithDevices(api: RestClient, devices: number): Promise<RestAuth[]> {
  const first = await api.register({ name: 'Events' });
  const sessions: RestAuth[] = [first];
  for (let i = 1; i < devices; i++) sessions.push(await api.login({ email: first.email }));
  return sessions;
}

describe('GET /api/auth/events', () => {
  const server = useTestServer({ env: { SSE_HEARTBEAT_MS: '50' } });
  const api = restClient(server);
  const events = (token: string): string => `${server.url}/api/auth/events?token=${encodeURIComponent(token)}`;

  it('answers a missing, bad or revoked token with a 401 JSON error, never a stream', async () => {
    const [a, b] = await userWithDevices(api, 2);
    expect((await api.call('POST', '/api/auth/logout', { token: b!.token })).status).toBe(200);
    const attempts: Array<[string, Record<string, string>]> = [
      [`${server.url}/api/auth/events`, {}],
      [events('garbage'), {}],
      [events(b!.token), {}],
      [`${server.url}/api/auth/events`, { authorization: `Bearer ${b!.token}` }],
      // The header, when present, is the credential: a good query token does not rescue a bad header.
      [events(a!.token), { authorization: 'Bearer garbage' }],
    ];
    for (const [url, headers] of attempts) {
      const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toEqual(restError('UNAUTHENTICATED'));
    }

    // A browser EventSource sees the refusal and does not retry.
    const source = listen(events(b!.token));
    expect(await source.next()).toEqual([{ type: 'error', status: 401, readyState: 2 }]);
    source.close();
  });

  it('starts with `connected`, sends `: ping` heartbeats, and numbers every event', async () => {
    const [a, b, c] = await userWithDevices(api, 3);
    // The header works as well as ?token=.
    const stream = await openEventStream(`${server.url}/api/auth/events`, { authorization: `Bearer ${a!.token}` });
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toContain('no-cache');

    const connected = await stream.until(isEvent('connected'));
    expect(stream.seen[0]).toBe(connected);
    expect(connected).toMatchObject({ id: '1' });
    expect(eventData(connected)).toEqual({ sessionId: a!.session.id, userId: a!.user.id });
    // Heartbeats (SSE_HEARTBEAT_MS is 50 here): wait for two of them.
    await stream.until((item) => item.kind === 'comment' && item.text === 'ping');
    await stream.until((item) => item.kind === 'comment' && item.text === 'ping');

    // Revocations of the user's other sessions: one event each, and the stream stays open.
    expect((await api.call('POST', '/api/auth/logout', { token: b!.token })).status).toBe(200);
    const logout = await stream.until(isEvent('session-revoked'));
    expect(eventData(logout)).toEqual({ sessionId: b!.session.id, reason: 'LOGOUT', revokedAt: expect.any(String), current: false });
    expect((await api.call('DELETE', `/api/auth/sessions/${c!.session.id}`, { token: a!.token })).status).toBe(200);
    const revoked = await stream.until(isEvent('session-revoked'));
    expect(eventData(revoked)).toMatchObject({ sessionId: c!.session.id, reason: 'REVOKED', current: false });
    await stream.until((item) => item.kind === 'comment');

    // Its own revocation is the last event: the server ends the stream after it.
    expect((await api.call('POST', '/api/auth/logout', { token: a!.token })).status).toBe(200);
    const rest = await stream.readToEnd();
    const last = rest.filter((item) => item.kind === 'event');
    expect(last).toHaveLength(1);
    expect(eventData(last[0])).toMatchObject({ sessionId: a!.session.id, reason: 'LOGOUT', current: true });

    const ids = stream.seen.flatMap((item) => (item.kind === 'event' ? [item.id] : []));
    expect(ids).toEqual(['1', '2', '3', '4']);
    await waitForSubscribers(server.services, a!.user.id, 0);
  });

  it('gives its subscription back when the client disconnects (EventSource.close, or a dropped connection)', async () => {
    const [a] = await userWithDevices(api, 1);
    const browser = listen(events(a!.token));
    expect((await browser.next())[0]).toMatchObject({ type: 'connected' });
    // `connected` is sent once the Redis subscription is live.
    await waitForSubscribers(server.services, a!.user.id, 1);
    browser.close();
    await waitForSubscribers(server.services, a!.user.id, 0);

    const raw = await openEventStream(events(a!.token));
    await raw.until(isEvent('connected'));
    await waitForSubscribers(server.services, a!.user.id, 1);
    raw.close();
    await waitForSubscribers(server.services, a!.user.id, 0);
  });

  it('leaves no subscription behind when the client leaves while its stream is being set up', async () => {
    const [a] = await userWithDevices(api, 1);
    const gone = nextClientGone('/api/auth/events');
    const restore = holdSubscription(server.services, () => gone, 'after-subscribe');
    try {
      const controller = new AbortController();
      const request = fetch(events(a!.token), { signal: controller.signal }).catch(() => null);
      await waitForSubscribers(server.services, a!.user.id, 1);
      controller.abort();
      await request;
      await gone;
      await waitForSubscribers(server.services, a!.user.id, 0);
    } finally {
      restore();
    }
  });

  it('delivers revocations made between authentication and subscription (no gap)', async () => {
    const [a, b, c] = await userWithDevices(api, 3);
    const restore = holdSubscription(
      server.services,
      async () => {
        expect((await api.call('POST', '/api/auth/logout', { token: b!.token })).status).toBe(200);
        expect((await api.call('DELETE', `/api/auth/sessions/${a!.session.id}`, { token: c!.token })).status).toBe(200);
      },
      'before-subscribe',
    );
    try {
      // The token was good when checked; its session is revoked before the stream is live.
      const stream = await openEventStream(events(a!.token));
      expect(stream.response.status).toBe(200);
      const items = (await stream.readToEnd()).filter((item) => item.kind === 'event');
      expect(items.map((item) => (item.kind === 'event' ? item.event : ''))).toEqual(['connected', 'session-revoked', 'session-revoked']);
      expect(items.slice(1).map(eventData)).toEqual([
        expect.objectContaining({ sessionId: b!.session.id, reason: 'LOGOUT', current: false }),
        expect.objectContaining({ sessionId: a!.session.id, reason: 'REVOKED', current: true }),
      ]);
    } finally {
      restore();
    }
  });

  it('works with `curl -N`: connected, then the revocation, then curl exits', async () => {
    const [a, b] = await userWithDevices(api, 2);
    const curl = spawn('curl', ['-sS', '-N', events(b!.token), '-H', 'Accept: text/event-stream']);
    const parser = new SseParser();
    const items: SseItem[] = [];
    const connected = new Promise<void>((resolve, reject) => {
      curl.stdout.setEncoding('utf8').on('data', (text: string) => {
        items.push(...parser.feed(text));
        if (items.some(isEvent('connected'))) resolve();
      });
      curl.once('exit', () => reject(new Error(`curl exited before connected: ${JSON.stringify(items)}`)));
    });
    const exited = new Promise<number | null>((resolve) => curl.once('exit', resolve));
    await connected;

    expect((await api.call('POST', '/api/auth/logout-all', { token: a!.token })).status).toBe(200);
    // The server ends the stream after B's own revocation, so curl finishes by itself.
    expect(await exited).toBe(0);
    // One logoutAll is one message: B hears of A's revocation, then of its own, which is the last thing on the stream.
    expect(items.filter(isEvent('session-revoked')).map(eventData)).toEqual([
      expect.objectContaining({ sessionId: a!.session.id, reason: 'LOGOUT_ALL', current: false }),
      expect.objectContaining({ sessionId: b!.session.id, reason: 'LOGOUT_ALL', current: true }),
    ]);
  });
});
