import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './support/server.js';
import { listen, type SourceItem } from './support/sse.js';
import { waitForSubscribers } from './support/events.js';

const run = promisify(execFile);
const PASSWORD = 'password123';
let counter = 0;
const email = (): string => `flow.${Date.now().toString(36)}.${process.pid}.${++counter}@example.com`;

interface Session {
  id: string;
  deviceInfo: string;
  current: boolean;
}
interface Auth {
  token: string;
  user: { id: string };
  session: Session;
}

/** One curl call, as the README prints them; returns the status and the parsed JSON body. */
async function curl(url: string, method: string, options: { token?: string; json?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  const args = ['-sS', '-X', method, url, '-w', '\n%{http_code}'];
  if (options.token) args.push('-H', `Authorization: Bearer ${options.token}`);
  if (options.json !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(options.json));
  const { stdout } = await run('curl', args);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) };
}

/** Items from an EventSource until one matches; fails if the stream gives something else first. */
async function nextOf(source: ReturnType<typeof listen>, type: SourceItem['type']): Promise<SourceItem> {
  const [item] = await source.next();
  expect(item?.type).toBe(type);
  return item!;
}

describe('the seed flow over REST, with curl and an EventSource', () => {
  const server = useTestServer();
  let api: string;

  beforeAll(() => {
    api = `${server.url}/api/auth`;
  });

  it('register → login twice → 3 sessions → logout-all reaches the listening device at once → every token is 401', async () => {
    const address = email();
    const registered = await curl(`${api}/register`, 'POST', { json: { name: 'John Doe', email: address, password: PASSWORD } });
    expect(registered.status).toBe(201);
    const first = registered.body as Auth;
    const loginA = await curl(`${api}/login`, 'POST', { json: { email: address, password: PASSWORD } });
    const loginB = await curl(`${api}/login`, 'POST', { json: { email: address, password: PASSWORD, deviceInfo: 'Device B' } });
    expect([loginA.status, loginB.status]).toEqual([200, 200]);
    const a = loginA.body as Auth;
    const b = loginB.body as Auth;

    const listed = await curl(`${api}/sessions`, 'GET', { token: a.token });
    expect(listed.status).toBe(200);
    const { sessions } = listed.body as { sessions: Session[] };
    expect(sessions.map((s) => s.id)).toEqual([b.session.id, a.session.id, first.session.id]);
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([a.session.id]);
    // No deviceInfo sent: it comes from curl's User-Agent.
    expect(sessions.map((s) => s.deviceInfo)).toEqual(['Device B', expect.stringMatching(/^curl \d/), expect.stringMatching(/^curl \d/)]);

    // Device B listens as a browser would: EventSource, token in the query.
    const deviceB = listen(`${api}/events?token=${b.token}`);
    expect(await nextOf(deviceB, 'connected')).toMatchObject({ id: '1', data: { sessionId: b.session.id, userId: first.user.id } });

    const loggedOut = await curl(`${api}/logout-all`, 'POST', { token: a.token });
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
        const reply = await curl(`${api}/${path}`, method, { token });
        expect(reply).toEqual({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: expect.any(String) } } });
      }
    }
  });

  it('logout and DELETE sessions/:id tell the user\'s other listeners; another user\'s session is 404 and left alone', async () => {
    const address = email();
    const first = (await curl(`${api}/register`, 'POST', { json: { name: 'Jane', email: address, password: PASSWORD } })).body as Auth;
    const second = (await curl(`${api}/login`, 'POST', { json: { email: address, password: PASSWORD } })).body as Auth;
    const third = (await curl(`${api}/login`, 'POST', { json: { email: address, password: PASSWORD } })).body as Auth;
    const strangerAddress = email();
    const stranger = (await curl(`${api}/register`, 'POST', { json: { name: 'Eve', email: strangerAddress, password: PASSWORD } })).body as Auth;

    const listener = listen(`${api}/events?token=${first.token}`);
    const strangerListener = listen(`${api}/events?token=${stranger.token}`);
    await nextOf(listener, 'connected');
    await nextOf(strangerListener, 'connected');

    expect(await curl(`${api}/logout`, 'POST', { token: second.token })).toEqual({ status: 200, body: { success: true } });
    expect(await nextOf(listener, 'session-revoked')).toMatchObject({
      id: '2',
      data: { sessionId: second.session.id, reason: 'LOGOUT', current: false },
    });

    expect(await curl(`${api}/sessions/${third.session.id}`, 'DELETE', { token: first.token })).toEqual({ status: 200, body: { success: true } });
    expect(await nextOf(listener, 'session-revoked')).toMatchObject({
      id: '3',
      data: { sessionId: third.session.id, reason: 'REVOKED', current: false },
    });

    const foreign = await curl(`${api}/sessions/${stranger.session.id}`, 'DELETE', { token: first.token });
    expect(foreign).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.any(String) } } });
    expect((await curl(`${api}/me`, 'GET', { token: stranger.token })).status).toBe(200);
    // The stranger's next event is one it caused itself: nothing came of the refused attempt.
    const strangerPhone = (await curl(`${api}/login`, 'POST', { json: { email: strangerAddress, password: PASSWORD } })).body as Auth;
    expect((await curl(`${api}/logout`, 'POST', { token: strangerPhone.token })).status).toBe(200);
    expect(await nextOf(strangerListener, 'session-revoked')).toMatchObject({ data: { sessionId: strangerPhone.session.id, reason: 'LOGOUT' } });

    listener.close();
    strangerListener.close();
    await waitForSubscribers(server.services, first.user.id, 0);
    await waitForSubscribers(server.services, stranger.user.id, 0);
  });
});
