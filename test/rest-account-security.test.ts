import { describe, expect, it } from 'vitest';
import { waitForSubscribers } from './support/events.js';
import { useTestServer } from './support/server.js';
import { isEvent, openEventStream, type RawEventStream, type SseItem } from './support/sse.js';

const PASSWORD = 'password123';
const NEW_PASSWORD = 'a brand new passphrase';
let counter = 0;
const email = (): string => `account.${Date.now().toString(36)}.${process.pid}.${++counter}@example.com`;

interface Auth {
  token: string;
  user: { id: string };
  session: { id: string; deviceInfo: string; createdAt: string };
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Status and parsed body (null for an empty one). */
async function answer(response: Response): Promise<{ status: number; body: unknown }> {
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

const errorOf = (code: string) => ({ error: { code, message: expect.any(String) } });
const data = (item: SseItem | undefined): Record<string, unknown> =>
  item?.kind === 'event' ? (JSON.parse(item.data) as Record<string, unknown>) : {};

describe('account security over REST, across two instances', () => {
  const one = useTestServer({ ownRedis: true, env: { SERVER_ID: 'one' } });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });

  async function register(base: string, deviceInfo: string): Promise<Auth & { email: string }> {
    const address = email();
    const response = await call(base, 'POST', '/api/auth/register', undefined, { name: 'Rest', email: address, password: PASSWORD, deviceInfo });
    expect(response.status).toBe(201);
    return { ...((await response.json()) as Auth), email: address };
  }

  async function login(base: string, address: string, deviceInfo: string, password = PASSWORD): Promise<Auth> {
    const response = await call(base, 'POST', '/api/auth/login', undefined, { email: address, password, deviceInfo });
    expect(response.status).toBe(200);
    return (await response.json()) as Auth;
  }

  /** An `/api/auth/events` stream, read until `connected` (its revocation subscription is live). */
  async function events(base: string, token: string): Promise<RawEventStream> {
    const stream = await openEventStream(`${base}/api/auth/events?token=${encodeURIComponent(token)}`);
    await stream.until(isEvent('connected'));
    return stream;
  }

  it('POST /api/auth/password: 200 {revokedCount}; other devices are refused and their streams end with PASSWORD_CHANGED', async () => {
    const laptop = await register(one.url, 'laptop');
    const phone = await login(two.url, laptop.email, 'phone');
    const phoneStream = await events(two.url, phone.token);

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
      expect(await answer(await call(one.url, 'POST', '/api/auth/password', laptop.token, body)), JSON.stringify(body)).toEqual({ status, body: errorOf(code) });
    }
    expect((await answer(await call(one.url, 'POST', '/api/auth/password', undefined, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }))).status).toBe(401);
    expect((await call(two.url, 'GET', '/api/auth/me', phone.token)).status).toBe(200);

    const changed = await answer(await call(one.url, 'POST', '/api/auth/password', laptop.token, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }));
    expect(changed).toEqual({ status: 200, body: { revokedCount: 1 } });
    for (const base of [one.url, two.url]) {
      expect(await answer(await call(base, 'GET', '/api/auth/me', phone.token))).toEqual({ status: 401, body: errorOf('UNAUTHENTICATED') });
      expect((await call(base, 'GET', '/api/auth/me', laptop.token)).status).toBe(200);
    }
    const rest = (await phoneStream.readToEnd()).filter(isEvent('session-revoked'));
    expect(rest.map(data)).toEqual([{ sessionId: phone.session.id, reason: 'PASSWORD_CHANGED', revokedAt: expect.any(String), current: true }]);

    expect((await call(two.url, 'POST', '/api/auth/login', undefined, { email: laptop.email, password: PASSWORD })).status).toBe(401);
    await login(two.url, laptop.email, 'again', NEW_PASSWORD);
  });

  it('GET /api/auth/events sends `session-created` to the other streams, on both instances, not to the new session', async () => {
    const first = await register(one.url, 'first');
    const second = await login(two.url, first.email, 'second');
    const firstStream = await events(one.url, first.token);
    const secondStream = await events(two.url, second.token);
    await waitForSubscribers(one.services, first.user.id, 2, 'sessionCreated');

    const third = await login(one.url, first.email, 'third');
    for (const stream of [firstStream, secondStream]) {
      const created = await stream.until((item) => isEvent('session-created')(item) && data(item).id === third.session.id);
      expect(data(created)).toEqual({ ...third.session, current: false });
    }
    // Only what happened after each stream started; never a device's own session.
    for (const stream of [firstStream, secondStream]) {
      expect(stream.seen.filter(isEvent('session-created')).map((item) => data(item).id)).toEqual([third.session.id]);
    }

    // The third device's stream hears the fourth, and never of itself.
    const thirdStream = await events(two.url, third.token);
    const fourth = await login(one.url, first.email, 'fourth');
    await thirdStream.until(isEvent('session-created'));
    expect(thirdStream.seen.filter(isEvent('session-created')).map((item) => data(item).id)).toEqual([fourth.session.id]);

    // Every event of a stream has its own id, whichever kind.
    const ids = secondStream.seen.flatMap((item) => (item.kind === 'event' ? [item.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
    for (const stream of [firstStream, secondStream, thirdStream]) stream.close();
  });

  it('DELETE /api/auth/account: 204; every stream ends with ACCOUNT_DELETED, every token is refused, the email is free', async () => {
    const owner = await register(one.url, 'owner');
    const phone = await login(two.url, owner.email, 'phone');
    const streams = [await events(one.url, owner.token), await events(two.url, phone.token)];

    expect(await answer(await call(two.url, 'DELETE', '/api/auth/account', owner.token, {}))).toEqual({ status: 400, body: errorOf('BAD_USER_INPUT') });
    expect(await answer(await call(two.url, 'DELETE', '/api/auth/account', owner.token, { password: 42 }))).toEqual({ status: 400, body: errorOf('BAD_USER_INPUT') });
    expect(await answer(await call(two.url, 'DELETE', '/api/auth/account', owner.token, { password: 'wrong password' }))).toEqual({ status: 401, body: errorOf('INVALID_CREDENTIALS') });
    expect(await answer(await call(two.url, 'DELETE', '/api/auth/account', undefined, { password: PASSWORD }))).toEqual({ status: 401, body: errorOf('UNAUTHENTICATED') });
    const deleted = await call(two.url, 'DELETE', '/api/auth/account', owner.token, { password: PASSWORD });
    expect(await answer(deleted)).toEqual({ status: 204, body: null });

    for (const [i, session] of [owner.session, phone.session].entries()) {
      const revoked = (await streams[i]!.readToEnd()).filter(isEvent('session-revoked')).map(data);
      expect(revoked.at(-1)).toEqual({ sessionId: session.id, reason: 'ACCOUNT_DELETED', revokedAt: expect.any(String), current: true });
    }
    for (const base of [one.url, two.url]) {
      for (const token of [owner.token, phone.token]) {
        expect(await answer(await call(base, 'GET', '/api/auth/sessions', token))).toEqual({ status: 401, body: errorOf('UNAUTHENTICATED') });
        expect((await call(base, 'GET', '/api/auth/security-events', token)).status).toBe(401);
      }
    }
    // The same call again is refused: the token went with the account.
    expect((await call(one.url, 'DELETE', '/api/auth/account', owner.token, { password: PASSWORD })).status).toBe(401);
    expect((await call(one.url, 'POST', '/api/auth/login', undefined, { email: owner.email, password: PASSWORD })).status).toBe(401);
    const again = await call(one.url, 'POST', '/api/auth/register', undefined, { name: 'Again', email: owner.email, password: PASSWORD });
    expect(again.status).toBe(201);
  });

  it('GET /api/auth/security-events: newest first, paged by limit and cursor; bad paging is a 400', async () => {
    const laptop = await register(one.url, 'laptop');
    const phone = await login(two.url, laptop.email, 'phone');
    expect((await call(two.url, 'POST', '/api/auth/logout', phone.token)).status).toBe(200);
    const tablet = await login(one.url, laptop.email, 'tablet');
    expect((await call(two.url, 'DELETE', `/api/auth/sessions/${tablet.session.id}`, laptop.token)).status).toBe(200);
    expect((await call(one.url, 'POST', '/api/auth/logout-all', laptop.token, { exceptCurrent: true })).status).toBe(200);
    const other = await register(two.url, 'stranger');

    type Page = { events: Array<{ type: string; deviceInfo: string; sessionId: string | null; current: boolean }>; nextCursor: string | null };
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = await answer(await call(two.url, 'GET', `/api/auth/security-events${query}`, laptop.token));
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
    const all = await answer(await call(one.url, 'GET', '/api/auth/security-events', laptop.token));
    expect(all.body).toEqual({ events: pages.flatMap((p) => p.events.map((e) => expect.objectContaining(e))), nextCursor: null });

    const firstPage = pages[0]!;
    const bad = ['limit=0', 'limit=101', 'limit=abc', 'limit=', 'limit=2.5', 'cursor=forged', `cursor=${encodeURIComponent(`${firstPage.nextCursor}x`)}`];
    for (const query of bad) {
      expect(await answer(await call(one.url, 'GET', `/api/auth/security-events?${query}`, laptop.token)), query).toEqual({ status: 400, body: errorOf('BAD_USER_INPUT') });
    }
    // Another account's cursor is refused, and its own timeline holds only its own events.
    expect((await call(one.url, 'GET', `/api/auth/security-events?cursor=${encodeURIComponent(firstPage.nextCursor!)}`, other.token)).status).toBe(400);
    const theirs = (await answer(await call(one.url, 'GET', '/api/auth/security-events', other.token))).body as Page;
    expect(theirs.events.map((e) => [e.type, e.sessionId])).toEqual([['SIGNED_IN', other.session.id]]);
    expect(await answer(await call(one.url, 'GET', '/api/auth/security-events'))).toEqual({ status: 401, body: errorOf('UNAUTHENTICATED') });
  });
});
