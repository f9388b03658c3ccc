import { describe, expect, it } from 'vitest';
import { redisKeys } from '../src/redis-keys.js';
import type { Services } from '../src/services.js';
import { gql, loginUser, ok, PASSWORD, registerUser, type AuthPayload } from './support/client.js';
import { LogoutAllDocument, MeDocument } from './support/operations.js';
import { type ServerFixture, useTestServer } from './support/server.js';
import { restClient } from './support/rest.js';

/**
 * A revocation that answered holds for good, whatever Redis loses: Redis runs
 * without persistence (docker-compose.yml), so a restart loses every tombstone
 * and outbox entry, and the sessions' own documents are marked revoked only
 * after the answer. These tests restart Redis while that marking is held back
 * (a slow database), with the revoked tokens in use.
 */

/** Holds back the marking of sessions' documents on one instance until released (a database that is slow to update). */
function holdMarking(services: Services): { release(): void } {
  const { Session } = services.models;
  const real = Session.updateMany.bind(Session);
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  Session.updateMany = ((...args: Parameters<typeof real>) => {
    // A query object: awaited, it waits for the release first.
    const query = real(...args);
    return { ...query, then: (resolve: never, reject: never) => held.then(() => query.exec()).then(resolve, reject) } as unknown as ReturnType<typeof real>;
  }) as typeof Session.updateMany;
  return {
    release() {
      release();
      Session.updateMany = real as typeof Session.updateMany;
    },
  };
}

async function signInMany(server: ServerFixture, n: number): Promise<{ owner: AuthPayload & { email: string }; devices: AuthPayload[] }> {
  const owner = await registerUser(server.graphqlUrl);
  const devices: AuthPayload[] = [];
  for (let i = 0; i < n; i += 1) devices.push(await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: `device ${i}` }));
  return { owner, devices };
}

/** The status of `GET /api/auth/me` for each token, on `server`. */
async function meStatuses(server: ServerFixture, tokens: readonly string[]): Promise<number[]> {
  const api = restClient(server);
  return Promise.all(tokens.map(async (token) => (await api.call('GET', '/api/auth/me', { token })).status));
}

/** Uses the tokens over and over (GraphQL `me`) until stopped: the requests that would refill the cache. */
function keepUsing(server: ServerFixture, tokens: readonly string[]): { stop(): Promise<void> } {
  let running = true;
  const loops = tokens.map(async (token) => {
    while (running) await gql(server.graphqlUrl, MeDocument, {}, { token }).catch(() => undefined);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('a Redis restart right after a logoutAll, with the revoked tokens in use', () => {
  const server = useTestServer({ ownRedis: true });

  it('lets no revoked token back in, then or later, on either API', async () => {
    const { owner, devices } = await signInMany(server, 12);
    const tokens = devices.map((d) => d.token);
    expect(await meStatuses(server, tokens)).toEqual(tokens.map(() => 200));
    const marking = holdMarking(server.services);
    const use = keepUsing(server, tokens);
    try {
      const result = await ok(server.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, owner.token);
      expect(result.logoutAll.revokedCount).toBe(12);
      // Redis loses everything (no persistence) while the documents are not marked yet.
      await server.redis.stop();
      await server.redis.start();
      // Requests keep coming through the reconnection and the cold path that refills the cache.
      await expect.poll(() => meStatuses(server, [owner.token]), { timeout: 15_000 }).toEqual([200]);
      expect(await meStatuses(server, tokens)).toEqual(tokens.map(() => 401));
    } finally {
      await use.stop();
      marking.release();
    }
    await server.services.revocations.idle();
    // Later: marked, and still refused, also from a cold cache once more.
    expect(await meStatuses(server, tokens)).toEqual(tokens.map(() => 401));
    // Redis holds no "active" for any revoked session (the caller's own may or may not be cached).
    const states = await server.services.redis!.mget(devices.map((d) => redisKeys.session(owner.user.id, d.session.id)));
    expect(states.filter((state) => state?.startsWith('active:'))).toEqual([]);
    await server.services.redis!.flushall();
    const api = restClient(server);
    for (const token of tokens) expect((await api.call('GET', '/api/auth/sessions', { token })).status).toBe(401);
    expect((await api.call('GET', '/api/auth/sessions', { token: owner.token })).body).toMatchObject({ sessions: [{ id: owner.session.id }] });
  });

  it('claims nothing twice across the restart: a second logoutAll revokes nothing, and each session has one record', async () => {
    const { owner, devices } = await signInMany(server, 2);
    const marking = holdMarking(server.services);
    try {
      const api = restClient(server);
      const first = await api.call('POST', '/api/auth/logout-all', { token: owner.token, json: { exceptCurrent: true } });
      expect(first.body).toMatchObject({ success: true, revokedCount: 2 });
      await server.redis.stop();
      await server.redis.start();
      await expect.poll(() => meStatuses(server, [owner.token]), { timeout: 15_000 }).toEqual([200]);
      const second = await api.call('POST', '/api/auth/logout-all', { token: owner.token, json: { exceptCurrent: true } });
      expect(second.body).toEqual({ success: true, revokedCount: 0, revokedSessionIds: [] });
    } finally {
      marking.release();
    }
    await server.services.revocations.idle();
    const records = await server.services.models.Revocation.find({ userId: owner.user.id }).lean();
    const named = records.flatMap((r) => r.sessionIds).sort();
    expect(named).toEqual(devices.map((d) => d.session.id).sort());
  });
});

describe('the revoking instance dying mid-marking, then a Redis restart', () => {
  const one = useTestServer({ ownRedis: true, env: { SERVER_ID: 'one', REVOCATION_GRACE: '1s' } });
  const two = useTestServer({ env: { SERVER_ID: 'two', REVOCATION_GRACE: '1s' }, shareWith: one });

  it('is completed by the other instance: every session marked, no revoked token accepted', async () => {
    const { owner, devices } = await signInMany(one, 8);
    const tokens = devices.map((d) => d.token);
    holdMarking(one.services); // never released: instance one dies with its marking unfinished
    const result = await ok(one.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, owner.token);
    expect(result.logoutAll.revokedCount).toBe(8);
    await one.close();
    await one.redis.stop();
    await one.redis.start();

    await expect.poll(() => meStatuses(two, [owner.token]), { timeout: 15_000 }).toEqual([200]);
    expect(await meStatuses(two, tokens)).toEqual(tokens.map(() => 401));
    // Instance two's sweep finishes the marking once the grace period is over (its timer would too).
    await expect
      .poll(
        async () => {
          await two.services.revocations.sweep();
          return two.services.models.Session.countDocuments({ userId: owner.user.id, revokedAt: null });
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBe(1);
    const sessions = await two.services.models.Session.find({ userId: owner.user.id }).lean();
    for (const session of sessions.filter((s) => s.sessionId !== owner.session.id)) expect(session.revokedReason).toBe('LOGOUT_ALL');
    expect(await two.services.models.Revocation.countDocuments({ userId: owner.user.id, marked: false })).toBe(0);
    expect(await meStatuses(two, tokens)).toEqual(tokens.map(() => 401));
  });
});
