import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './support/server.js';
import { holdSubscription } from './support/pubsub.js';
import {
  isEvent,
  listen,
  nextClientGone,
  openEventStream,
  SseParser,
  type SseItem,
} from './support/sse.js';
import { waitForSubscribers } from './support/events.js';

const PASSWORD = 'correct horse battery';
let counter = 0;
const email = (): string => `events.${Date.now().toString(36)}.${process.pid}.${++counter}@example.com`;

interface Auth {
  token: string;
  user: { id: string };
  session: { id: string };
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A user with `devices` sessions (the first from register), over REST. */
async function userWithDevices(base: string, devices: number): Promise<Auth[]> {
  const address = email();
  const first = await call(base, 'POST', '/api/auth/register', undefined, { name: 'Events', email: address, password: PASSWORD });
  expect(first.status).toBe(201);
  const sessions = [(await first.json()) as Auth];
  for (let i = 1; i < devices; i++) {
    const next = await call(base, 'POST', '/api/auth/login', undefined, { email: address, password: PASSWORD });
    sessions.push((await next.json()) as Auth);
  }
  return sessions;
}

const data = (item: SseItem | undefined): Record<string, unknown> =>
  item?.kind === 'event' ? (JSON.parse(item.data) as Record<string, unknown>) : {};

describe('GET /api/auth/events', () => {
  const server = useTestServer({ env: { SSE_HEARTBEAT_MS: '50' } });
  let base: string;
  const events = (token: string): string => `${base}/api/auth/events?token=${encodeURIComponent(token)}`;

  beforeAll(() => {
    base = server.url;
  });

  it('answers a missing, bad or revoked token with a 401 JSON error, never a stream', async () => {
    const [a, b] = await userWithDevices(base, 2);
    expect((await call(base, 'POST', '/api/auth/logout', b!.token)).status).toBe(200);
    const attempts: Array<[string, Record<string, string>]> = [
      [`${base}/api/auth/events`, {}],
      [events('garbage'), {}],
      [events(b!.token), {}],
      [`${base}/api/auth/events`, { authorization: `Bearer ${b!.token}` }],
      // The header, when present, is the credential: a good query token does not rescue a bad header.
      [events(a!.token), { authorization: 'Bearer garbage' }],
    ];
    for (const [url, headers] of attempts) {
      const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    }

    // A browser EventSource sees the refusal and does not retry.
    const source = listen(events(b!.token));
    expect(await source.next()).toEqual([{ type: 'error', status: 401, readyState: 2 }]);
    source.close();
  });

  it('starts with `connected`, sends `: ping` heartbeats, and numbers every event', async () => {
    const [a, b, c] = await userWithDevices(base, 3);
    // The header works as well as ?token=.
    const stream = await openEventStream(`${base}/api/auth/events`, { authorization: `Bearer ${a!.token}` });
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toContain('no-cache');

    const connected = await stream.until(isEvent('connected'));
    expect(stream.seen[0]).toBe(connected);
    expect(connected).toMatchObject({ id: '1' });
    expect(data(connected)).toEqual({ sessionId: a!.session.id, userId: a!.user.id });
    // Heartbeats (SSE_HEARTBEAT_MS is 50 here): wait for two of them.
    await stream.until((item) => item.kind === 'comment' && item.text === 'ping');
    await stream.until((item) => item.kind === 'comment' && item.text === 'ping');

    // Revocations of the user's other sessions: one event each, and the stream stays open.
    expect((await call(base, 'POST', '/api/auth/logout', b!.token)).status).toBe(200);
    const logout = await stream.until(isEvent('session-revoked'));
    expect(data(logout)).toEqual({ sessionId: b!.session.id, reason: 'LOGOUT', revokedAt: expect.any(String), current: false });
    expect((await call(base, 'DELETE', `/api/auth/sessions/${c!.session.id}`, a!.token)).status).toBe(200);
    const revoked = await stream.until(isEvent('session-revoked'));
    expect(data(revoked)).toMatchObject({ sessionId: c!.session.id, reason: 'REVOKED', current: false });
    await stream.until((item) => item.kind === 'comment');

    // Its own revocation is the last event: the server ends the stream after it.
    expect((await call(base, 'POST', '/api/auth/logout', a!.token)).status).toBe(200);
    const rest = await stream.readToEnd();
    const last = rest.filter((item) => item.kind === 'event');
    expect(last).toHaveLength(1);
    expect(data(last[0])).toMatchObject({ sessionId: a!.session.id, reason: 'LOGOUT', current: true });

    const ids = stream.seen.flatMap((item) => (item.kind === 'event' ? [item.id] : []));
    expect(ids).toEqual(['1', '2', '3', '4']);
    await waitForSubscribers(server.services, a!.user.id, 0);
  });

  it('gives its subscription back when the client disconnects (EventSource.close, or a dropped connection)', async () => {
    const [a] = await userWithDevices(base, 1);
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
    const [a] = await userWithDevices(base, 1);
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
    const [a, b, c] = await userWithDevices(base, 3);
    const restore = holdSubscription(
      server.services,
      async () => {
        expect((await call(base, 'POST', '/api/auth/logout', b!.token)).status).toBe(200);
        expect((await call(base, 'DELETE', `/api/auth/sessions/${a!.session.id}`, c!.token)).status).toBe(200);
      },
      'before-subscribe',
    );
    try {
      // The token was good when checked; its session is revoked before the stream is live.
      const stream = await openEventStream(events(a!.token));
      expect(stream.response.status).toBe(200);
      const items = (await stream.readToEnd()).filter((item) => item.kind === 'event');
      expect(items.map((item) => (item.kind === 'event' ? item.event : ''))).toEqual(['connected', 'session-revoked', 'session-revoked']);
      expect(items.slice(1).map(data)).toEqual([
        expect.objectContaining({ sessionId: b!.session.id, reason: 'LOGOUT', current: false }),
        expect.objectContaining({ sessionId: a!.session.id, reason: 'REVOKED', current: true }),
      ]);
    } finally {
      restore();
    }
  });

  it('works with `curl -N`: connected, then the revocation, then curl exits', async () => {
    const [a, b] = await userWithDevices(base, 2);
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

    expect((await call(base, 'POST', '/api/auth/logout-all', a!.token)).status).toBe(200);
    // The server ends the stream after B's own revocation, so curl finishes by itself.
    expect(await exited).toBe(0);
    // Whatever of A's revocation came first, B's own is the last thing on the stream.
    const revoked = items.filter(isEvent('session-revoked')).map(data);
    expect(revoked.at(-1)).toMatchObject({ sessionId: b!.session.id, reason: 'LOGOUT_ALL', current: true });
    expect(revoked.slice(0, -1)).toEqual(revoked.length === 2 ? [expect.objectContaining({ sessionId: a!.session.id, current: false })] : []);
  });
});
