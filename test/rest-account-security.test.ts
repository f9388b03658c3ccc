import { describe, expect, it } from 'vitest';
import { NEW_PASSWORD, PASSWORD } from './support/client.js';
import { waitForSubscribers } from './support/events.js';
import { restClient, restError, statusAndBody } from './support/rest.js';
import { useTestServer } from './support/server.js';
import { eventData, isEvent, openRestEvents } from './support/sse.js';

describe('account security over REST, across two instances', () => {
  const one = useTestServer({ ownRedis: true, env: { SERVER_ID: 'one' } });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });

  const [api1, api2] = [restClient(one), restClient(two)];

  it('POST /api/auth/password: 200 {revokedCount}; other devices are refused and their streams end with PASSWORD_CHANGED', async () => {
    const laptop = await api1.register({ deviceInfo: 'laptop' });
    const phone = await api2.login({ email: laptop.email, deviceInfo: 'phone' });
    const phoneStream = await openRestEvents(two, phone.token, { via: 'query' });

    // Bad input and a wrong current password change nothing.
    const bad: Array<[unknown, number, string]> = [
      [{ newPassword: NEW_PASSWORD }, 400, 'BAD_USER_INPUT'],
      [{ currentPassword: PASSWORD }, 400, 'BAD_USER_INPUT'],
      [{ currentPassword: PASSWORD, newPassword: 'short' }, 400, 'BAD_USER_INPUT'],
      [{ currentPassword: PASSWORD, newPassword: { $ne: null } }, 400, 'BAD_USER_INPUT'],
      [{ currentPassword: PASSWORD, newPassword: 'x'.repeat(129) }, 400, 'BAD_USER_INPUT'],
      [[PASSWORD, NEW_PASSWORD], 400, 'BAD_USER_INPUT'],
      [{ currentPassword: 'not my password', newPassword: NEW_PASSWORD }, 401, 'INVALID_CREDENTIALS'],
    ];
    for (const [body, status, code] of bad) {
      expect(statusAndBody(await api1.call('POST', '/api/auth/password', { token: laptop.token, json: body })), JSON.stringify(body)).toEqual({ status, body: restError(code) });
    }
    expect((await api1.call('POST', '/api/auth/password', { json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })).status).toBe(401);
    expect((await api2.call('GET', '/api/auth/me', { token: phone.token })).status).toBe(200);

    const changed = statusAndBody(await api1.call('POST', '/api/auth/password', { token: laptop.token, json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } }));
    expect(changed).toEqual({ status: 200, body: { revokedCount: 1 } });
    for (const api of [api1, api2]) {
      expect(statusAndBody(await api.call('GET', '/api/auth/me', { token: phone.token }))).toEqual({ status: 401, body: restError('UNAUTHENTICATED') });
      expect((await api.call('GET', '/api/auth/me', { token: laptop.token })).status).toBe(200);
    }
    const rest = (await phoneStream.readToEnd()).filter(isEvent('session-revoked'));
    expect(rest.map(eventData)).toEqual([{ sessionId: phone.session.id, reason: 'PASSWORD_CHANGED', revokedAt: expect.any(String), current: true }]);

    expect((await api2.call('POST', '/api/auth/login', { json: { email: laptop.email, password: PASSWORD } })).status).toBe(401);
    await api2.login({ email: laptop.email, deviceInfo: 'again', password: NEW_PASSWORD });
  });

  it('GET /api/auth/events sends `session-created` to the other streams, on both instances, not to the new session', async () => {
    const first = await api1.register({ deviceInfo: 'first' });
    const second = await api2.login({ email: first.email, deviceInfo: 'second' });
    const firstStream = await openRestEvents(one, first.token, { via: 'query' });
    const secondStream = await openRestEvents(two, second.token, { via: 'query' });
    await waitForSubscribers(one.services, first.user.id, 2, 'sessionCreated');

    const third = await api1.login({ email: first.email, deviceInfo: 'third' });
    for (const stream of [firstStream, secondStream]) {
      const created = await stream.until((item) => isEvent('session-created')(item) && eventData(item).id === third.session.id);
      expect(eventData(created)).toEqual({ ...third.session, current: false });
    }
    // Only what happened after each stream started; never a device's own session.
    for (const stream of [firstStream, secondStream]) {
      expect(stream.seen.filter(isEvent('session-created')).map((item) => eventData(item).id)).toEqual([third.session.id]);
    }

    // The third device's stream hears the fourth, and never of itself.
    const thirdStream = await openRestEvents(two, third.token, { via: 'query' });
    const fourth = await api1.login({ email: first.email, deviceInfo: 'fourth' });
    await thirdStream.until(isEvent('session-created'));
    expect(thirdStream.seen.filter(isEvent('session-created')).map((item) => eventData(item).id)).toEqual([fourth.session.id]);

    // Every event of a stream has its own id, whichever kind.
    const ids = secondStream.seen.flatMap((item) => (item.kind === 'event' ? [item.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
    for (const stream of [firstStream, secondStream, thirdStream]) stream.close();
  });

  it('DELETE /api/auth/account: 204; every stream ends with ACCOUNT_DELETED, every token is refused, the email is free', async () => {
    const owner = await api1.register({ deviceInfo: 'owner' });
    const phone = await api2.login({ email: owner.email, deviceInfo: 'phone' });
    const streams = [await openRestEvents(one, owner.token, { via: 'query' }), await openRestEvents(two, phone.token, { via: 'query' })];

    expect(statusAndBody(await api2.call('DELETE', '/api/auth/account', { token: owner.token, json: {} }))).toEqual({ status: 400, body: restError('BAD_USER_INPUT') });
    expect(statusAndBody(await api2.call('DELETE', '/api/auth/account', { token: owner.token, json: { password: 42 } }))).toEqual({ status: 400, body: restError('BAD_USER_INPUT') });
    expect(statusAndBody(await api2.call('DELETE', '/api/auth/account', { token: owner.token, json: { password: 'wrong password' } }))).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": "INVALID_CREDENTIALS",
            "message": "Wrong password",
          },
        },
        "status": 401,
      }
    `);
    expect(statusAndBody(await api2.call('DELETE', '/api/auth/account', { json: { password: PASSWORD } }))).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": "UNAUTHENTICATED",
            "message": "Not authenticated: sign in again",
          },
        },
        "status": 401,
      }
    `);
    const deleted = await api2.call('DELETE', '/api/auth/account', { token: owner.token, json: { password: PASSWORD } });
    expect(statusAndBody(deleted)).toEqual({ status: 204, body: undefined });

    for (const [i, session] of [owner.session, phone.session].entries()) {
      const revoked = (await streams[i]!.readToEnd()).filter(isEvent('session-revoked')).map(eventData);
      expect(revoked.at(-1)).toEqual({ sessionId: session.id, reason: 'ACCOUNT_DELETED', revokedAt: expect.any(String), current: true });
    }
    for (const api of [api1, api2]) {
      for (const token of [owner.token, phone.token]) {
        expect(statusAndBody(await api.call('GET', '/api/auth/sessions', { token }))).toEqual({ status: 401, body: restError('UNAUTHENTICATED') });
        expect((await api.call('GET', '/api/auth/security-events', { token })).status).toBe(401);
      }
    }
    // The same call again is refused: the token went with the account.
    expect((await api1.call('DELETE', '/api/auth/account', { token: owner.token, json: { password: PASSWORD } })).status).toBe(401);
    expect((await api1.call('POST', '/api/auth/login', { json: { email: owner.email, password: PASSWORD } })).status).toBe(401);
    const again = await api1.call('POST', '/api/auth/register', { json: { name: 'Again', email: owner.email, password: PASSWORD } });
    expect(again.status).toBe(201);
  });

  it('GET /api/auth/security-events: newest first, paged by limit and cursor; bad paging is a 400', async () => {
    const laptop = await api1.register({ deviceInfo: 'laptop' });
    const phone = await api2.login({ email: laptop.email, deviceInfo: 'phone' });
    expect((await api2.call('POST', '/api/auth/logout', { token: phone.token })).status).toBe(200);
    const tablet = await api1.login({ email: laptop.email, deviceInfo: 'tablet' });
    expect((await api2.call('DELETE', `/api/auth/sessions/${tablet.session.id}`, { token: laptop.token })).status).toBe(200);
    expect((await api1.call('POST', '/api/auth/logout-all', { token: laptop.token, json: { exceptCurrent: true } })).status).toBe(200);
    const other = await api2.register({ deviceInfo: 'stranger' });

    type Page = { events: Array<{ type: string; deviceInfo: string; sessionId: string | null; current: boolean }>; nextCursor: string | null };
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = statusAndBody(await api2.call('GET', `/api/auth/security-events${query}`, { token: laptop.token }));
      expect(page.status).toBe(200);
      pages.push(page.body as Page);
      cursor = (page.body as Page).nextCursor;
    } while (cursor !== null);
    expect(pages.map((p) => p.events.length)).toEqual([2, 2, 2]);
    expect(pages.flatMap((p) => p.events).map((e) => [e.type, e.deviceInfo, e.sessionId, e.current])).toEqual([
      ['SIGNED_OUT_EVERYWHERE', 'laptop', laptop.session.id, true],
      ['SESSION_REVOKED', 'laptop', tablet.session.id, false],
      ['SIGNED_IN', 'tablet', tablet.session.id, false],
      ['SIGNED_OUT', 'phone', phone.session.id, false],
      ['SIGNED_IN', 'phone', phone.session.id, false],
      ['SIGNED_IN', 'laptop', laptop.session.id, true],
    ]);
    // Without a limit: 20 at most, the whole of this short history.
    const all = statusAndBody(await api1.call('GET', '/api/auth/security-events', { token: laptop.token }));
    expect(all.body).toEqual({ events: pages.flatMap((p) => p.events.map((e) => expect.objectContaining(e))), nextCursor: null });

    const firstPage = pages[0]!;
    const bad = ['limit=0', 'limit=101', 'limit=abc', 'limit=', 'limit=2.5', 'cursor=forged', `cursor=${encodeURIComponent(`${firstPage.nextCursor}x`)}`];
    for (const query of bad) {
      expect(statusAndBody(await api1.call('GET', `/api/auth/security-events?${query}`, { token: laptop.token })), query).toEqual({ status: 400, body: restError('BAD_USER_INPUT') });
    }
    // Another account's cursor is refused, and its own timeline holds only its own events.
    expect((await api1.call('GET', `/api/auth/security-events?cursor=${encodeURIComponent(firstPage.nextCursor!)}`, { token: other.token })).status).toBe(400);
    const theirs = (await api1.call('GET', '/api/auth/security-events', { token: other.token })).body as Page;
    expect(theirs.events.map((e) => [e.type, e.sessionId])).toEqual([['SIGNED_IN', other.session.id]]);
    expect(statusAndBody(await api1.call('GET', '/api/auth/security-events'))).toEqual({ status: 401, body: restError('UNAUTHENTICATED') });
  });
});
