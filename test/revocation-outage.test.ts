import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { startOwnFerretDb, type OwnFerretDb } from './support/ferretdb.js';
import { startServer, type ServerFixture, type TestServer, useTestServer } from './support/server.js';
import { interceptPubSub } from './support/pubsub.js';
import { restClient, statusAndBody } from './support/rest.js';
import { isEvent, isRevocationOf, openEventStream, openRestEvents, type RawEventStream, subscribeOverSse } from './support/sse.js';

describe('MongoDB going away in the middle of a revocation', () => {
  let ferret: OwnFerretDb;
  let server: TestServer;
  beforeAll(async () => {
    ferret = await startOwnFerretDb();
    server = await startServer({ env: { MONGODB_URI: ferret.uri } });
  });
  afterAll(async () => {
    await server?.close();
    await ferret?.destroy();
  });

  it('is not made when it cannot be recorded: 503, nothing announced, and the retry succeeds once MongoDB is back', async () => {
    const api = restClient(server);
    const owner = await registerUser(server.graphqlUrl);
    const phone = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const watcher = await openRestEvents(server, owner.token);

    await ferret.stop();
    // The session check needs no MongoDB (cache), the claim holds in Redis, but the record cannot be
    // written: a revocation is answered success only once it is durable, so it is undone.
    const refused = await api.call('POST', '/api/auth/logout', { token: phone.token });
    expect(refused.status).toBe(503);
    expect(await server.services.ledger.inFlight(owner.user.id)).toEqual([]);
    expect(await server.services.ledger.revokedAmong(owner.user.id, [phone.session.id])).toEqual(new Set());

    await ferret.start();
    await expect.poll(async () => (await api.call('POST', '/api/auth/logout', { token: phone.token })).status, { timeout: 20_000, interval: 200 }).toBe(200);
    expect((await api.call('GET', '/api/auth/me', { token: phone.token })).status).toBe(401);
    const event = await watcher.until(isRevocationOf(phone.session.id));
    expect(JSON.parse((event as { data: string }).data)).toMatchObject({ reason: 'LOGOUT', current: false });
    await server.services.revocations.idle();
    expect((await server.services.models.Session.findOne({ sessionId: phone.session.id }).lean())?.revokedReason).toBe('LOGOUT');
    const listed = (await api.call('GET', '/api/auth/sessions', { token: owner.token })).body as { sessions: Array<{ id: string }> };
    expect(listed.sessions.map((s) => s.id)).toEqual([owner.session.id]);
    watcher.close();
  });
});

describe('an instance dying between its claim and the record', () => {
  const one = useTestServer({ env: { SERVER_ID: 'one' } });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });

  it('is completed by another instance: record, announcement, and the session off every list', async () => {
    const owner = await registerUser(one.graphqlUrl);
    const phone = await loginUser(one.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const watcher = await openRestEvents(two, owner.token);

    // What revokeSessions does first, on instance one, which then dies before the record.
    const claimed = await one.services.ledger.claim({
      userId: owner.user.id,
      sessionIds: [phone.session.id],
      reason: 'REVOKED',
      revokedAt: new Date().toISOString(),
      dueAt: Date.now(),
    });
    expect(claimed?.sessionIds).toEqual([phone.session.id]);
    expect((await restClient(two).call('GET', '/api/auth/me', { token: phone.token })).status).toBe(401);

    expect(await two.services.revocations.sweep()).toBeGreaterThanOrEqual(1);
    const event = await watcher.until(isRevocationOf(phone.session.id));
    expect(JSON.parse((event as { data: string }).data)).toMatchObject({ reason: 'REVOKED', current: false });
    const session = await two.services.models.Session.findOne({ sessionId: phone.session.id }).lean();
    expect(session).toMatchObject({ revokedReason: 'REVOKED', revokedSeq: claimed?.seq });
    const record = await two.services.models.Revocation.findOne({ userId: owner.user.id, seq: claimed?.seq }).lean();
    expect(record).toMatchObject({ reason: 'REVOKED', sessionIds: [phone.session.id] });
    // Swept once: nothing is announced twice.
    expect(await two.services.revocations.sweep()).toBe(0);
    watcher.close();
  });
});

describe('Redis going away between the record and the announcement', () => {
  const server: ServerFixture = useTestServer({ ownRedis: true });
  const api = restClient(server);

  it('answers success; the stream that lost its subscription ends, and its client, reconnecting once Redis is back, hears what follows', async () => {
    const owner = await registerUser(server.graphqlUrl);
    const phone = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const tablet = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'tablet' });
    const watcher = await openRestEvents(server, owner.token);
    const subscription = await subscribeOverSse(server, owner.token);
    await expect.poll(() => server.services.streams.running).toBe(2);

    // Redis is killed just before the announcement (its data is lost with it: no persistence).
    let killed = false;
    const restore = interceptPubSub(server.services, (real) => ({
      async publish(topic, key, payload) {
        if (!killed) {
          killed = true;
          await server.redis.stop();
        }
        return real.publish(topic, key, payload);
      },
    }));
    try {
      expect(statusAndBody(await api.call('POST', '/api/auth/logout', { token: phone.token }))).toEqual({ status: 200, body: { success: true } });
    } finally {
      restore();
    }
    expect(await server.services.models.Revocation.findOne({ userId: owner.user.id }).lean()).toMatchObject({ reason: 'LOGOUT' });

    // What was published while the subscription was down is lost, and no one can tell what: the
    // stream cannot be sure it hears everything any more, so it ends (without its own event) and
    // its client reconnects, rather than stay open and deaf.
    expect((await watcher.readToEnd()).filter(isEvent('session-revoked'))).toEqual([]);
    // GraphQL: the stream ends without `complete`, which graphql-sse's client takes for a network error.
    expect(await subscription.text()).not.toContain('event: complete');
    await server.redis.start();
    let again: RawEventStream | undefined;
    await expect
      .poll(
        async () => {
          const stream = await openEventStream(`${server.url}/api/auth/events`, { authorization: `Bearer ${owner.token}` });
          if (stream.response.status === 200) again = stream;
          else stream.close();
          return again !== undefined;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await again!.until(isEvent('connected'));
    expect((await api.call('POST', '/api/auth/logout', { token: tablet.token })).status).toBe(200);
    const event = await again!.until(isRevocationOf(tablet.session.id));
    expect(JSON.parse((event as { data: string }).data)).toMatchObject({ reason: 'LOGOUT', current: false });
    // The phone's revocation held through it all.
    expect((await api.call('GET', '/api/auth/me', { token: phone.token })).status).toBe(401);
    again!.close();
  });
});
