import { describe, expect, it } from 'vitest';
import { errorCodes, gql, loginUser, ok, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { readToEnd, take, waitForSubscribers } from './support/events.js';
import { LogoutAllDocument, MeDocument, RefreshDocument, SecurityEventsDocument, SessionsDocument } from './support/operations.js';
import { restClient, type RestReply } from './support/rest.js';
import { isRevocationOf, openRestEvents, restEvents } from './support/sse.js';
import { useTestServer } from './support/server.js';

/** Refresh tokens (issue 19 §2): rotation, the grace for concurrent tabs, reuse detection, races across instances. */

const claims = (token: string): { exp: number; iat: number; sid: string } =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number; sid: string };

describe('refresh', () => {
  // A short grace, so that the reuse tests need not wait long; still far longer than racing requests take.
  const env = { REFRESH_REUSE_GRACE: '2', ACCESS_TOKEN_TTL: '15m' };
  const server = useTestServer({ env });
  const second = useTestServer({ shareWith: server, env });

  it('GraphQL: answers a working pair for the same session, slides its idle deadline, and spends the old token', async () => {
    const url = server.graphqlUrl;
    const user = await registerUser(url);
    expect(user.refreshToken).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    expect(claims(user.token).exp - claims(user.token).iat).toBe(15 * 60);

    const { refresh } = await ok(url, RefreshDocument, { refreshToken: user.refreshToken });
    expect(refresh.session).toMatchObject({ id: user.session.id, current: true });
    expect(refresh.user.id).toBe(user.user.id);
    expect(refresh.refreshToken).not.toBe(user.refreshToken);
    expect(Date.parse(refresh.session.idleExpiresAt)).toBeGreaterThan(Date.parse(user.session.idleExpiresAt));
    expect(claims(refresh.token).sid).toBe(user.session.id);
    expect((await ok(url, MeDocument, {}, refresh.token)).me.id).toBe(user.user.id);

    // The next one works as well, once.
    const again = await ok(url, RefreshDocument, { refreshToken: refresh.refreshToken });
    expect((await ok(url, SessionsDocument, {}, again.refresh.token)).sessions.map((s) => s.id)).toEqual([user.session.id]);
    for (const bad of ['', 'not-a-token', `${user.session.id}.${'A'.repeat(43)}`]) {
      expect(await errorCodes(url, RefreshDocument, { refreshToken: bad })).toEqual([bad === '' ? 'BAD_USER_INPUT' : 'UNAUTHENTICATED']);
    }
  });

  it('GraphQL: a spent token used again within the grace gets the same pair; after it, TOKEN_REUSE ends the session on every device', async () => {
    const url = server.graphqlUrl;
    const owner = await registerUser(url, { deviceInfo: 'owner' });
    const other = await loginUser(url, { email: owner.email, password: PASSWORD, deviceInfo: 'other device' });
    const ownerStream = sseClient(url, owner.token);
    const otherStream = sseClient(url, other.token);
    const ownerEvents = readToEnd(revocations(ownerStream));
    const otherEvents = take(revocations(otherStream), 1);
    await waitForSubscribers(server.services, owner.user.id, 1);

    const first = (await ok(url, RefreshDocument, { refreshToken: owner.refreshToken })).refresh;
    // A second tab with the same token, a moment later: the same next refresh token, for the same session.
    const tab = (await ok(url, RefreshDocument, { refreshToken: owner.refreshToken })).refresh;
    expect(tab.refreshToken).toBe(first.refreshToken);
    expect(claims(tab.token)).toMatchObject({ sid: owner.session.id, exp: claims(first.token).exp });

    // Past the grace, whoever presents the spent token is not the one who spent it.
    await expect.poll(() => errorCodes(url, RefreshDocument, { refreshToken: owner.refreshToken }), { timeout: 10_000, interval: 200 }).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect((await ownerEvents).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: owner.session.id, reason: 'TOKEN_REUSE', current: true }),
    ]);
    expect((await otherEvents).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: owner.session.id, reason: 'TOKEN_REUSE', current: false }),
    ]);
    ownerStream.dispose();
    otherStream.dispose();
    // Every token of that session is dead: the new access token, and the refresh token the spend gave.
    expect(await errorCodes(url, MeDocument, {}, first.token)).toEqual(['UNAUTHENTICATED']);
    expect(await errorCodes(url, RefreshDocument, { refreshToken: first.refreshToken })).toEqual(['UNAUTHENTICATED']);
    const { securityEvents } = await ok(url, SecurityEventsDocument, {}, other.token);
    expect(securityEvents.events.find((e) => e.type === 'TOKEN_REUSE')).toMatchObject({ sessionId: owner.session.id, deviceInfo: 'owner' });
  });

  it('REST: login answers a refreshToken; POST /api/auth/refresh rotates it; reuse after the grace is told to every device', async () => {
    const api = restClient(server);
    const owner = await api.register({ deviceInfo: 'owner' });
    expect(owner.refreshToken).toEqual(expect.any(String));
    const other = await api.login({ email: owner.email, deviceInfo: 'other' });
    expect(other.refreshToken).not.toBe(owner.refreshToken);

    const refreshed = await api.post('/api/auth/refresh', { json: { refreshToken: owner.refreshToken } });
    expect(refreshed.status).toBe(200);
    const pair = refreshed.body as { token: string; refreshToken: string; session: { id: string; idleExpiresAt: string } };
    expect(pair.session.id).toBe(owner.session.id);
    expect(Date.parse(pair.session.idleExpiresAt)).toBeGreaterThan(Date.parse(owner.session.idleExpiresAt));
    expect((await api.get('/api/auth/me', { token: pair.token })).status).toBe(200);
    expect((await api.post('/api/auth/refresh', { json: {} })).status).toBe(400);
    expect((await api.post('/api/auth/refresh', { json: { refreshToken: 'nope' } })).body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });

    const ownerStream = await openRestEvents(server, pair.token);
    const otherStream = await openRestEvents(server, other.token);
    await expect.poll(async () => (await api.post('/api/auth/refresh', { json: { refreshToken: owner.refreshToken } })).status, { timeout: 10_000, interval: 200 }).toBe(401);
    expect(await restEvents(ownerStream)).toEqual([{ sessionId: owner.session.id, reason: 'TOKEN_REUSE', revokedAt: expect.any(String), current: true }]);
    await otherStream.until(isRevocationOf(owner.session.id));
    otherStream.close();
    expect((await api.post('/api/auth/refresh', { json: { refreshToken: pair.refreshToken } })).status).toBe(401);
  });

  it('two instances racing with the same refresh token give one new pair', async () => {
    const user = await registerUser(server.graphqlUrl);
    const racers = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? server : second));
    const answers = await Promise.all(racers.map((s) => gql(s.graphqlUrl, RefreshDocument, { refreshToken: user.refreshToken })));
    const pairs = answers.flatMap((a) => (a.data ? [a.data.refresh] : []));
    // Concurrent within the grace: every racer that got an answer got the same next refresh token.
    expect(pairs.length).toBeGreaterThan(0);
    expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
    expect(answers.flatMap((a) => a.errors ?? []).map((e) => e.extensions?.code)).toEqual([]);
    // That one pair goes on working: the session was neither revoked nor forked.
    const next = (await ok(second.graphqlUrl, RefreshDocument, { refreshToken: pairs[0]!.refreshToken })).refresh;
    expect((await ok(server.graphqlUrl, SessionsDocument, {}, next.token)).sessions.map((s) => s.id)).toEqual([user.session.id]);
    expect(await server.services.models.SpentRefreshToken.countDocuments({ sessionId: user.session.id })).toBe(2);
  });

  it('two instances racing a reuse after the grace revoke the session once', async () => {
    const api = restClient(server);
    const user = await api.register();
    const listener = await api.login({ email: user.email });
    const stream = await openRestEvents(server, listener.token);
    expect((await api.post('/api/auth/refresh', { json: { refreshToken: user.refreshToken } })).status).toBe(200);
    const send = (s: { url: string }): Promise<RestReply> => restClient(s).post('/api/auth/refresh', { json: { refreshToken: user.refreshToken } });
    // Past the grace: every racer is refused, and the session is revoked by exactly one of them.
    await expect.poll(async () => (await Promise.all([send(server), send(second), send(server), send(second)])).map((r) => r.status), { timeout: 10_000, interval: 200 }).toEqual([401, 401, 401, 401]);
    await stream.until(isRevocationOf(user.session.id));
    expect((await api.get('/api/auth/me', { token: listener.token })).status).toBe(200);
    const logout = await ok(server.graphqlUrl, LogoutAllDocument, {}, listener.token);
    expect(logout.logoutAll.revokedSessionIds).toEqual([listener.session.id]);
    const events = await restEvents(stream);
    expect(events.filter((e) => e.sessionId === user.session.id)).toEqual([]);
    expect(await server.services.models.Revocation.countDocuments({ sessionIds: user.session.id })).toBe(1);
  });
});
