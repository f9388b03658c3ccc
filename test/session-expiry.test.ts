import { afterAll, describe, expect, it } from 'vitest';
import { errorCodes, loginUser, ok, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { readToEnd, waitForSubscribers } from './support/events.js';
import { MeDocument, SecurityEventsDocument, SessionsDocument } from './support/operations.js';
import { restClient, type RestClient } from './support/rest.js';
import { isRevocationOf, openRestEvents, restEvents } from './support/sse.js';
import { useTestServer } from './support/server.js';

/**
 * Idle and absolute expiry (issue 19 §1), with deadlines of a few seconds: the
 * ending is announced when it happens, with no request from the expired
 * session, on both APIs.
 */

/** Keeps a device in use (a request now and then) until stopped: its idle deadline keeps sliding. */
function keepUsing(use: () => Promise<unknown>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      // A failure is the test's to report, not the loop's (the server may be closing).
      await use().catch(() => null);
      // Pacing, not waiting for anything: the activity write is throttled to a tenth of the idle timeout.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

const stoppers: Array<{ stop(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(stoppers.map((s) => s.stop()));
});
const using = (use: () => Promise<unknown>): { stop(): Promise<void> } => {
  const handle = keepUsing(use);
  stoppers.push(handle);
  return handle;
};

describe('SESSION_IDLE_TIMEOUT: a session left unused ends, announced at once', () => {
  const env = { SESSION_IDLE_TIMEOUT: '3', SESSION_EXPIRY_SWEEP_INTERVAL: '1' };
  const server = useTestServer({ env });
  // A second instance sweeps the same deadlines: each ending is still claimed, announced and recorded once.
  const second = useTestServer({ shareWith: server, env });

  it('GraphQL: the idle session is told EXPIRED and its stream ends; its token is refused; the other device keeps it out of its list', async () => {
    const url = server.graphqlUrl;
    const idle = await registerUser(url, { deviceInfo: 'idle laptop' });
    const active = await loginUser(url, { email: idle.email, password: PASSWORD, deviceInfo: 'phone in use' });
    expect(Date.parse(idle.session.expiresAt) - Date.now()).toBeGreaterThan(86_400_000);

    const phone = using(() => ok(url, SessionsDocument, {}, active.token));
    const idleClient = sseClient(url, idle.token);
    const activeClient = sseClient(url, active.token);
    // Each stream also replays what happened since it authenticated: none misses the ending, whenever it starts.
    const idleEvents = readToEnd(revocations(idleClient), 20_000);
    const told = revocations(activeClient).next();
    await waitForSubscribers(server.services, idle.user.id, 1);

    // Ends with no request from the idle device: its open stream is not activity.
    const events = await idleEvents;
    expect(events.map((e) => e.data?.sessionRevoked)).toEqual([expect.objectContaining({ sessionId: idle.session.id, reason: 'EXPIRED', current: true })]);
    expect((await told).value?.data?.sessionRevoked).toMatchObject({ sessionId: idle.session.id, reason: 'EXPIRED', current: false });
    idleClient.dispose();

    expect(await errorCodes(url, MeDocument, {}, idle.token)).toEqual(['UNAUTHENTICATED']);
    const { sessions } = await ok(url, SessionsDocument, {}, active.token);
    expect(sessions.map((s) => s.id)).toEqual([active.session.id]);
    // The device in use slid its idle deadline past the first one's.
    expect(Date.parse(sessions[0]!.idleExpiresAt)).toBeGreaterThan(Date.parse(active.session.idleExpiresAt));
    await phone.stop();
    activeClient.dispose();

    const { securityEvents } = await loginUser(second.graphqlUrl, { email: idle.email, password: PASSWORD }).then((fresh) =>
      ok(second.graphqlUrl, SecurityEventsDocument, {}, fresh.token),
    );
    // Once, whichever instance's sweep (or request) got there first.
    expect(securityEvents.events.filter((e) => e.type === 'EXPIRED' && e.sessionId === idle.session.id)).toHaveLength(1);
    expect(await server.services.models.Revocation.countDocuments({ sessionIds: idle.session.id })).toBe(1);
  });

  it('REST: the idle session, however often it opens streams, gets session-revoked EXPIRED and its stream ends; 401 after; the other device lists it no more', async () => {
    const api: RestClient = restClient(server);
    const idle = await api.register({ deviceInfo: 'idle tablet' });
    const active = await api.login({ email: idle.email, deviceInfo: 'desktop in use' });
    expect(idle.session.idleExpiresAt).toEqual(expect.any(String));

    const idleStream = await openRestEvents(server, idle.token);
    const activeStream = await openRestEvents(server, active.token);
    const desktop = using(() => api.get('/api/auth/sessions', { token: active.token }));
    // Opening event streams again and again is no use of the session either.
    const reopening = using(() => openRestEvents(server, idle.token).then((stream) => stream.close()));

    expect(await restEvents(idleStream)).toEqual([{ sessionId: idle.session.id, reason: 'EXPIRED', revokedAt: expect.any(String), current: true }]);
    await reopening.stop();
    await activeStream.until(isRevocationOf(idle.session.id));
    activeStream.close();
    expect(activeStream.seen.filter(isRevocationOf(idle.session.id))).toHaveLength(1);
    expect(await second.services.models.Revocation.countDocuments({ sessionIds: idle.session.id })).toBe(1);

    expect((await api.get('/api/auth/me', { token: idle.token })).status).toBe(401);
    const listed = await api.get('/api/auth/sessions', { token: active.token });
    expect((listed.body as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id)).toEqual([active.session.id]);
    await desktop.stop();
  });
});

describe('SESSION_MAX_AGE: no session outlives it, however much it is used', () => {
  const server = useTestServer({ env: { SESSION_MAX_AGE: '4', SESSION_EXPIRY_SWEEP_INTERVAL: '1' } });

  it('GraphQL and REST: a session in use all along is told EXPIRED at its absolute end, and its token refused', async () => {
    const url = server.graphqlUrl;
    const api = restClient(server);
    const gqlUser = await registerUser(url);
    const restUser = await api.register();
    for (const auth of [gqlUser, restUser]) {
      // The access token never outlives the session's absolute end.
      const { exp } = JSON.parse(Buffer.from(auth.token.split('.')[1]!, 'base64url').toString()) as { exp: number };
      expect(exp * 1000).toBeLessThanOrEqual(Date.parse(auth.session.expiresAt));
    }

    const client = sseClient(url, gqlUser.token);
    const gqlEvents = readToEnd(revocations(client), 20_000);
    await waitForSubscribers(server.services, gqlUser.user.id, 1);
    const restStream = await openRestEvents(server, restUser.token);
    const users = [using(() => ok(url, MeDocument, {}, gqlUser.token).catch(() => null)), using(() => api.get('/api/auth/me', { token: restUser.token }))];

    expect((await gqlEvents).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: gqlUser.session.id, reason: 'EXPIRED', current: true }),
    ]);
    expect(await restEvents(restStream)).toEqual([{ sessionId: restUser.session.id, reason: 'EXPIRED', revokedAt: expect.any(String), current: true }]);
    client.dispose();
    await Promise.all(users.map((u) => u.stop()));
    expect(await errorCodes(url, MeDocument, {}, gqlUser.token)).toEqual(['UNAUTHENTICATED']);
    expect((await api.get('/api/auth/me', { token: restUser.token })).status).toBe(401);
  });
});
