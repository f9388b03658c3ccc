import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { SessionUpdatedSubscription } from './gql/graphql.js';
import { errorCodes, gql, loginUser, ok, registerUser, sseClient } from './support/client.js';
import { take, waitForSubscribers } from './support/events.js';
import { RenameSessionDocument, RevokeSessionDocument, SessionsDocument, SessionUpdatedDocument } from './support/operations.js';
import { restClient, restError } from './support/rest.js';
import { useTestServer } from './support/server.js';
import { eventData, isEvent, openRestEvents, type SseItem } from './support/sse.js';

/** Renaming a session (issue 20 §4) over both APIs, and its live `session-updated` / `sessionUpdated`, across two instances. */
describe('renaming a session', () => {
  const one = useTestServer({ ownRedis: true, env: { SERVER_ID: 'one' } });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });
  const api = restClient(one);

  it('renameSession: one of the caller\'s own sessions, in MongoDB and in the list; anything else one clear error', async () => {
    const first = await registerUser(one.graphqlUrl, { deviceInfo: 'Laptop' });
    const phone = await loginUser(one.graphqlUrl, { email: first.email, password: 'correct horse battery', deviceInfo: 'Phone' });
    const stranger = await registerUser(one.graphqlUrl, { deviceInfo: 'Stranger' });

    const renamed = await ok(one.graphqlUrl, RenameSessionDocument, { id: phone.session.id, deviceInfo: '  Ada’s phone 📱 ' }, first.token);
    expect(renamed.renameSession).toMatchObject({ id: phone.session.id, deviceInfo: 'Ada’s phone 📱', current: false });
    // Every instance lists it so, and MongoDB has it (what a refill would read).
    for (const server of [one, two]) {
      const { sessions } = await ok(server.graphqlUrl, SessionsDocument, {}, phone.token);
      expect(sessions.map((s) => [s.deviceInfo, s.current])).toEqual([['Ada’s phone 📱', true], ['Laptop', false]]);
    }
    const record = await one.services.models.Session.findOne({ sessionId: phone.session.id }, { deviceInfo: 1 }).lean();
    expect(record?.deviceInfo).toBe('Ada’s phone 📱');
    // Its own session too.
    const own = await ok(two.graphqlUrl, RenameSessionDocument, { id: first.session.id, deviceInfo: 'Work laptop' }, first.token);
    expect(own.renameSession).toMatchObject({ deviceInfo: 'Work laptop', current: true });

    // The same rule as at sign-in, and never empty.
    for (const deviceInfo of ['', '   ', 'x'.repeat(201), 'bell\u0007']) {
      const result = await gql(one.graphqlUrl, RenameSessionDocument, { id: phone.session.id, deviceInfo }, { token: first.token });
      expect(result.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'deviceInfo']]);
    }
    expect(await errorCodes(one.graphqlUrl, RenameSessionDocument, { id: 'not-a-session', deviceInfo: 'x' }, first.token)).toEqual([
      'BAD_USER_INPUT',
    ]);
    // Another user's session, an unknown one, a revoked one: NOT_FOUND alike, and nothing changed.
    for (const id of [stranger.session.id, '00000000-0000-4000-8000-000000000000']) {
      expect(await errorCodes(one.graphqlUrl, RenameSessionDocument, { id, deviceInfo: 'Mine now' }, first.token)).toEqual(['NOT_FOUND']);
    }
    expect((await ok(one.graphqlUrl, SessionsDocument, {}, stranger.token)).sessions.map((s) => s.deviceInfo)).toEqual(['Stranger']);
    await ok(one.graphqlUrl, RevokeSessionDocument, { id: phone.session.id }, first.token);
    expect(await errorCodes(one.graphqlUrl, RenameSessionDocument, { id: phone.session.id, deviceInfo: 'Ghost' }, first.token)).toEqual([
      'NOT_FOUND',
    ]);
    expect(await errorCodes(one.graphqlUrl, RenameSessionDocument, { id: first.session.id, deviceInfo: 'x' })).toEqual(['UNAUTHENTICATED']);
  });

  it('PATCH /api/auth/sessions/:id: 200 {session}; another user\'s session 404 NOT_FOUND; bad input 400', async () => {
    const a = await api.register({ deviceInfo: 'Laptop' });
    const b = await api.login({ email: a.email, deviceInfo: 'Phone' });
    const stranger = await api.register({ deviceInfo: 'Stranger' });

    const renamed = await api.call('PATCH', `/api/auth/sessions/${b.session.id}`, { token: a.token, json: { deviceInfo: 'Old phone' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ session: { ...b.session, deviceInfo: 'Old phone', lastActivity: expect.any(String), current: false } });
    const listed = await api.get('/api/auth/sessions', { token: b.token });
    expect((listed.body as { sessions: Array<{ deviceInfo: string }> }).sessions.map((s) => s.deviceInfo)).toEqual(['Old phone', 'Laptop']);

    const theirs = await api.call('PATCH', `/api/auth/sessions/${stranger.session.id}`, { token: a.token, json: { deviceInfo: 'Mine' } });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(restError('NOT_FOUND'));
    const empty = await api.call('PATCH', `/api/auth/sessions/${b.session.id}`, { token: a.token, json: {} });
    expect(empty.status).toBe(400);
    expect((empty.body as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    const anonymous = await api.call('PATCH', `/api/auth/sessions/${b.session.id}`, { json: { deviceInfo: 'x' } });
    expect(anonymous.status).toBe(401);
  });

  it('is told live, in the order of the user\'s other events: REST `session-updated`, GraphQL `sessionUpdated`, on both instances', async () => {
    const a = await api.register({ deviceInfo: 'Laptop' });
    const b = await api.login({ email: a.email, deviceInfo: 'Phone' });
    const c = await api.login({ email: a.email, deviceInfo: 'Tablet' });
    const rest = await openRestEvents(two, a.token);
    const client = sseClient(one.graphqlUrl, b.token);
    const updates = client.iterate<SessionUpdatedSubscription>({ query: print(SessionUpdatedDocument) });
    const heard = take(updates, 2);
    await waitForSubscribers(one.services, a.user.id, 1, 'sessionUpdated');

    // A rename of the tablet, then its revocation, then a rename of the phone, then a new sign-in, from both instances.
    const patch = (server: typeof one, token: string, id: string, deviceInfo: string) =>
      restClient(server).call('PATCH', `/api/auth/sessions/${id}`, { token, json: { deviceInfo } });
    expect((await patch(one, b.token, c.session.id, 'Old tablet')).status).toBe(200);
    expect((await restClient(two).delete(`/api/auth/sessions/${c.session.id}`, { token: b.token })).status).toBe(200);
    expect((await patch(two, b.token, b.session.id, 'New phone')).status).toBe(200);
    const d = await restClient(one).login({ email: a.email, deviceInfo: 'Desktop' });

    await rest.until((item) => isEvent('session-created')(item));
    const told = rest.seen.filter((item): item is Extract<SseItem, { kind: 'event' }> => item.kind === 'event' && item.event !== 'connected');
    expect(told.map((item) => [item.event, eventData(item)])).toEqual([
      ['session-updated', { sessionId: c.session.id, deviceInfo: 'Old tablet' }],
      ['session-revoked', expect.objectContaining({ sessionId: c.session.id, reason: 'REVOKED', current: false })],
      ['session-updated', { sessionId: b.session.id, deviceInfo: 'New phone' }],
      ['session-created', expect.objectContaining({ id: d.session.id, deviceInfo: 'Desktop' })],
    ]);
    // Numbered one after the other, as every event of the stream.
    expect(told.map((item) => Number(item.id))).toEqual([2, 3, 4, 5]);

    const results = await heard;
    expect(results.map((r) => r.data?.sessionUpdated)).toEqual([
      { id: c.session.id, deviceInfo: 'Old tablet', current: false },
      { id: b.session.id, deviceInfo: 'New phone', current: false },
    ]);
    await updates.return?.();
    client.dispose();
    rest.close();
  });
});
