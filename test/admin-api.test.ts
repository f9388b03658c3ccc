import { describe, expect, it } from 'vitest';
import { keyIdOf, ADMIN_FAILURES_PER_WINDOW } from '../src/admin/keys.js';
import { createLogger } from '../src/logger.js';
import { waitForSubscribers } from './support/events.js';
import { expectRestError, restClient, type RestReply, type RestRequest, type RestSession } from './support/rest.js';
import { eventData, isEvent, openRestEvents } from './support/sse.js';
import { useTestServer } from './support/server.js';

const KEY = 'admin-key-one-that-is-long-enough-0123456789';
const OTHER_KEY = 'admin-key-two-that-is-long-enough-9876543210';
const ADMIN_ENV = { ADMIN_API_KEYS: `${KEY}, ${OTHER_KEY}`, TRUST_PROXY: '1' };

let addresses = 0;
/** Each test calls from its own address (TRUST_PROXY): the refused calls it counts are its own. */
const freshAddress = (): string => `198.51.100.${(addresses += 1)}`;

describe('the admin API', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', serverId: 'admin-test', destination: { write: (line: string) => void lines.push(line) } });
  const one = useTestServer({ env: { ...ADMIN_ENV, SERVER_ID: 'one' }, logger });
  const two = useTestServer({ env: { ...ADMIN_ENV, SERVER_ID: 'two' }, shareWith: one });
  const api = restClient(one);
  const other = restClient(two);

  const admin = (from = freshAddress()) => {
    const call = (method: string, path: string, request: RestRequest = {}): Promise<RestReply> =>
      api.call(method, path, { ...request, headers: { authorization: `Bearer ${KEY}`, 'x-forwarded-for': from, ...request.headers } });
    return { call, get: (path: string) => call('GET', path), post: (path: string) => call('POST', path), delete: (path: string) => call('DELETE', path) };
  };

  it('refuses a missing, wrong or user key with 401 UNAUTHENTICATED, counted toward a limit (429 past it)', async () => {
    const user = await api.register();
    const from = freshAddress();
    const path = `/api/admin/users?email=${encodeURIComponent(user.email)}`;
    const attempts: RestRequest[] = [
      {},
      { headers: { authorization: 'Bearer not-a-key' } },
      { headers: { authorization: `Bearer ${KEY}x` } },
      { headers: { authorization: `Basic ${KEY}` } },
      // A user's token is no admin key.
      { token: user.token },
    ];
    for (let i = 0; i < ADMIN_FAILURES_PER_WINDOW; i += 1) {
      const attempt = attempts[i % attempts.length]!;
      const reply = await api.get(path, { ...attempt, headers: { 'x-forwarded-for': from, ...attempt.headers } });
      expectRestError(reply, 401, 'UNAUTHENTICATED');
    }
    const limited = await api.get(path, { headers: { 'x-forwarded-for': from, authorization: 'Bearer still-wrong' } });
    expectRestError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not held up, and the right key still works.
    expect((await admin().get(path)).status).toBe(200);
    // An admin key is no user's token either.
    expectRestError(await api.get('/api/auth/me', { token: KEY }), 401, 'UNAUTHENTICATED');
    expectRestError(await api.get('/api/auth/sessions', { token: OTHER_KEY }), 401, 'UNAUTHENTICATED');
  });

  it('finds a user by email or id and lists their active sessions', async () => {
    const user = await api.register({ deviceInfo: 'laptop' });
    const phone = await other.login({ email: user.email, deviceInfo: 'phone' });
    const byEmail = await admin().get(`/api/admin/users?email=${encodeURIComponent(user.email.toUpperCase())}`);
    expect(byEmail.status).toBe(200);
    expect(byEmail.body).toEqual({ user: { ...user.user, blocked: false } });
    expect((await admin().get(`/api/admin/users/${user.user.id}`)).body).toEqual({ user: { ...user.user, blocked: false } });
    const sessions = await admin().get(`/api/admin/users/${user.user.id}/sessions`);
    expect(sessions.status).toBe(200);
    const listed = (sessions.body as { sessions: RestSession[] }).sessions;
    expect(listed.map((s) => [s.id, s.deviceInfo, s.current])).toEqual([
      [phone.session.id, 'phone', false],
      [user.session.id, 'laptop', false],
    ]);
    expectRestError(await admin().get('/api/admin/users?email=nobody%40example.com'), 404, 'NOT_FOUND');
    expectRestError(await admin().get('/api/admin/users/0123456789abcdef01234567'), 404, 'NOT_FOUND');
    expectRestError(await admin().get('/api/admin/users/not-an-id/sessions'), 400, 'BAD_USER_INPUT');
    expectRestError(await admin().get('/api/admin/users?email=not-an-email'), 400, 'BAD_USER_INPUT');
    expectRestError(await admin().get('/api/admin/nothing-here'), 404, 'NOT_FOUND');
  });

  it('revokes one session, then all, with ADMIN_REVOKED: the user\'s streams hear it on both instances', async () => {
    const user = await api.register({ deviceInfo: 'laptop' });
    const phone = await other.login({ email: user.email, deviceInfo: 'phone' });
    const tablet = await api.login({ email: user.email, deviceInfo: 'tablet' });
    const onOne = await openRestEvents(one, user.token);
    const onTwo = await openRestEvents(two, phone.token);
    await waitForSubscribers(one.services, user.user.id, 2);

    const single = await admin().delete(`/api/admin/users/${user.user.id}/sessions/${tablet.session.id}`);
    expect(single).toMatchObject({ status: 200, body: { success: true } });
    for (const stream of [onOne, onTwo]) {
      const event = await stream.until(isEvent('session-revoked'));
      expect(eventData(event)).toMatchObject({ sessionId: tablet.session.id, reason: 'ADMIN_REVOKED', current: false });
    }
    expectRestError(await api.get('/api/auth/me', { token: tablet.token }), 401, 'UNAUTHENTICATED');
    // The same id again, or another user's session, is NOT_FOUND.
    expectRestError(await admin().delete(`/api/admin/users/${user.user.id}/sessions/${tablet.session.id}`), 404, 'NOT_FOUND');
    const stranger = await api.register();
    expectRestError(await admin().delete(`/api/admin/users/${user.user.id}/sessions/${stranger.session.id}`), 404, 'NOT_FOUND');

    const all = await admin().delete(`/api/admin/users/${user.user.id}/sessions`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ revokedCount: 2, revokedSessionIds: expect.arrayContaining([user.session.id, phone.session.id]) as string[] });
    for (const [stream, own] of [[onOne, user.session.id], [onTwo, phone.session.id]] as const) {
      const event = await stream.until((item) => isEvent('session-revoked')(item) && eventData(item).sessionId === own);
      expect(eventData(event)).toMatchObject({ reason: 'ADMIN_REVOKED', current: true });
      await stream.readToEnd();
    }
    expectRestError(await other.get('/api/auth/me', { token: phone.token }), 401, 'UNAUTHENTICATED');

    // The timeline says an administrator did it.
    const fresh = await api.login({ email: user.email });
    const timeline = await api.get('/api/auth/security-events', { token: fresh.token });
    const byAdmin = (timeline.body as { events: Array<{ type: string; deviceInfo: string; sessionId: string | null }> }).events.filter(
      (e) => e.type === 'REVOKED_BY_ADMIN',
    );
    expect(byAdmin).toEqual([
      expect.objectContaining({ deviceInfo: 'Administrator', sessionId: null, sessionDeviceInfo: null }),
      // The device signed out is named too (issue 20 §5).
      expect.objectContaining({ deviceInfo: 'Administrator', sessionId: tablet.session.id, sessionDeviceInfo: 'tablet' }),
    ]);
  });

  it('blocks sign-in: existing sessions are revoked, a sign-in is refused until unblocked', async () => {
    const user = await api.register({ deviceInfo: 'laptop' });
    const phone = await other.login({ email: user.email, deviceInfo: 'phone' });
    const stream = await openRestEvents(two, phone.token);
    await waitForSubscribers(two.services, user.user.id, 1);

    const blocked = await admin().post(`/api/admin/users/${user.user.id}/block`);
    expect(blocked.status).toBe(200);
    expect(blocked.body).toMatchObject({ user: { id: user.user.id, blocked: true } });
    const seen = await stream.readToEnd();
    expect(seen.filter(isEvent('session-revoked')).map(eventData)).toEqual(
      expect.arrayContaining([expect.objectContaining({ sessionId: phone.session.id, reason: 'ADMIN_REVOKED' })]),
    );
    expect((await admin().get(`/api/admin/users/${user.user.id}/sessions`)).body).toEqual({ sessions: [] });
    for (const token of [user.token, phone.token]) expectRestError(await api.get('/api/auth/me', { token }), 401, 'UNAUTHENTICATED');

    // The right password is told the account is blocked; a wrong one learns nothing new.
    expectRestError(await api.post('/api/auth/login', { json: { email: user.email, password: user.password } }), 403, 'ACCOUNT_BLOCKED');
    expectRestError(await api.post('/api/auth/login', { json: { email: user.email, password: 'not-the-password' } }), 401, 'INVALID_CREDENTIALS');

    const unblocked = await admin().post(`/api/admin/users/${user.user.id}/unblock`);
    expect(unblocked.body).toMatchObject({ user: { id: user.user.id, blocked: false } });
    await api.login({ email: user.email });
  });

  it('logs every call with the key\'s id, never the key', async () => {
    const user = await api.register();
    await admin().get(`/api/admin/users/${user.user.id}`);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual(expect.objectContaining({ msg: 'admin call', adminKey: keyIdOf(KEY), route: 'GET /api/admin/users/:id', userId: user.user.id }));
    expect(lines.join('\n')).not.toContain(KEY);
    expect(lines.join('\n')).not.toContain(OTHER_KEY);
  });
});

describe('the admin API without ADMIN_API_KEYS', () => {
  const server = useTestServer();

  it('is not there: every /api/admin route is 404', async () => {
    const api = restClient(server);
    const user = await api.register();
    for (const [method, path] of [
      ['GET', `/api/admin/users?email=${encodeURIComponent(user.email)}`],
      ['GET', `/api/admin/users/${user.user.id}/sessions`],
      ['DELETE', `/api/admin/users/${user.user.id}/sessions`],
      ['POST', `/api/admin/users/${user.user.id}/block`],
    ] as const) {
      expectRestError(await api.call(method, path, { headers: { authorization: `Bearer ${KEY}` } }), 404, 'NOT_FOUND');
    }
  });
});
