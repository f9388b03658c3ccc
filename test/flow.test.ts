import { beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, loginUser, ok, PASSWORD, registerUser, sseClient, revocations } from './support/client.js';
import { readToEnd, waitForSubscribers } from './support/events.js';
import {
  LogoutAllDocument,
  LogoutDocument,
  MeDocument,
  RevokeSessionDocument,
  SessionsDocument,
} from './support/operations.js';
import { useTestServer } from './support/server.js';

describe('logoutAll, end to end over HTTP and SSE', () => {
  const server = useTestServer();
  let url: string;

  beforeAll(() => {
    url = server.graphqlUrl;
  });

  it('lists three sessions, signs them all out, and tells device B at once', async () => {
    const first = await registerUser(url, { deviceInfo: 'laptop' });
    const a = await loginUser(url, { email: first.email, password: PASSWORD, deviceInfo: 'device A' });
    const b = await loginUser(url, { email: first.email.toUpperCase(), password: PASSWORD, deviceInfo: 'device B' });

    const { sessions } = await ok(url, SessionsDocument, {}, a.token);
    expect(sessions.map((s) => s.id)).toEqual([b.session.id, a.session.id, first.session.id]);
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([a.session.id]);
    expect(sessions.map((s) => s.deviceInfo)).toEqual(['device B', 'device A', 'laptop']);

    const client = sseClient(url, b.token);
    const received = readToEnd(revocations(client));
    await waitForSubscribers(server.services, first.user.id, 1);

    const { logoutAll } = await ok(url, LogoutAllDocument, {}, a.token);
    expect(logoutAll.revokedCount).toBe(3);
    expect([...logoutAll.revokedSessionIds].sort()).toEqual([a.session.id, b.session.id, first.session.id].sort());

    // The stream completes after B's own revocation: readToEnd resolving is that completion.
    const events = await received;
    const last = events.at(-1);
    expect(last?.errors).toBeUndefined();
    expect(last?.data?.sessionRevoked).toMatchObject({ sessionId: b.session.id, reason: 'LOGOUT_ALL', current: true });
    // Every device hears of every session the call revoked, its own last.
    expect(events.slice(0, -1).map((e) => e.data?.sessionRevoked)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sessionId: a.session.id, reason: 'LOGOUT_ALL', current: false }),
        expect.objectContaining({ sessionId: first.session.id, reason: 'LOGOUT_ALL', current: false }),
      ]),
    );
    expect(events).toHaveLength(3);
    client.dispose();

    for (const token of [a.token, b.token, first.token]) {
      expect(await errorCodes(url, MeDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, SessionsDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, LogoutDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, LogoutAllDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, RevokeSessionDocument, { id: a.session.id }, token)).toEqual(['UNAUTHENTICATED']);
    }

    // A new subscription attempt with B's token is refused, and its stream ends.
    const retry = sseClient(url, b.token);
    const refused = await readToEnd(revocations(retry));
    expect(refused.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    retry.dispose();
  });

  it('logout revokes only the caller and tells the other devices with reason LOGOUT', async () => {
    const first = await registerUser(url);
    const other = await loginUser(url, { email: first.email, password: PASSWORD });

    const watcher = sseClient(url, first.token);
    const iterator = revocations(watcher);
    const firstEvent = iterator.next();
    await waitForSubscribers(server.services, first.user.id, 1);

    expect(await ok(url, LogoutDocument, {}, other.token)).toEqual({ logout: true });
    const event = await firstEvent;
    expect(event.value?.data?.sessionRevoked).toMatchObject({ sessionId: other.session.id, reason: 'LOGOUT', current: false });
    await iterator.return?.();
    watcher.dispose();

    expect(await errorCodes(url, MeDocument, {}, other.token)).toEqual(['UNAUTHENTICATED']);
    const { sessions } = await ok(url, SessionsDocument, {}, first.token);
    expect(sessions.map((s) => s.id)).toEqual([first.session.id]);
  });

  it('revokeSession revokes one named session with reason REVOKED', async () => {
    const first = await registerUser(url);
    const second = await loginUser(url, { email: first.email, password: PASSWORD });

    const watcher = sseClient(url, second.token);
    const received = readToEnd(revocations(watcher));
    await waitForSubscribers(server.services, first.user.id, 1);

    expect(await ok(url, RevokeSessionDocument, { id: second.session.id }, first.token)).toEqual({ revokeSession: true });
    const events = await received;
    expect(events.map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: second.session.id, reason: 'REVOKED', current: true }),
    ]);
    watcher.dispose();

    expect(await errorCodes(url, SessionsDocument, {}, second.token)).toEqual(['UNAUTHENTICATED']);
    // Revoking it again: it is no longer an active session of the caller.
    expect(await errorCodes(url, RevokeSessionDocument, { id: second.session.id }, first.token)).toEqual(['NOT_FOUND']);
    expect((await ok(url, MeDocument, {}, first.token)).me.email).toBe(first.email);
  });

  it('logoutAll(exceptCurrent: true) keeps the caller signed in', async () => {
    const first = await registerUser(url);
    const second = await loginUser(url, { email: first.email, password: PASSWORD });
    const third = await loginUser(url, { email: first.email, password: PASSWORD });

    const watcher = sseClient(url, third.token);
    const iterator = revocations(watcher);
    const events = readToEnd({ [Symbol.asyncIterator]: () => iterator });
    await waitForSubscribers(server.services, first.user.id, 1);

    const { logoutAll } = await ok(url, LogoutAllDocument, { exceptCurrent: true }, second.token);
    expect(logoutAll.revokedCount).toBe(2);
    expect([...logoutAll.revokedSessionIds].sort()).toEqual([first.session.id, third.session.id].sort());

    const seen = (await events).map((e) => e.data?.sessionRevoked);
    expect(seen.at(-1)).toMatchObject({ sessionId: third.session.id, reason: 'LOGOUT_ALL', current: true });
    watcher.dispose();

    const { sessions } = await ok(url, SessionsDocument, {}, second.token);
    expect(sessions).toEqual([expect.objectContaining({ id: second.session.id, current: true })]);
    expect(await errorCodes(url, MeDocument, {}, first.token)).toEqual(['UNAUTHENTICATED']);
  });
});
