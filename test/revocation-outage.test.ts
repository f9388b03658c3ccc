import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { startOwnFerretDb, type OwnFerretDb } from './support/ferretdb.js';
import { startServer, type ServerFixture, type TestServer, useTestServer } from './support/server.js';
import { subscriberCount } from './support/events.js';
import { interceptPubSub } from './support/pubsub.js';
import { restClient, statusAndBody } from './support/rest.js';
import { isRevocationOf, openRestEvents } from './support/sse.js';

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

  it('answers success, and the next revocation brings the lost announcement to the stream, in order', async () => {
    const owner = await registerUser(server.graphqlUrl);
    const phone = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const tablet = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'tablet' });
    const watcher = await openRestEvents(server, owner.token);

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

    await server.redis.start();
    // The stream's subscription comes back with the connection.
    await expect
      .poll(() => subscriberCount(server.services, owner.user.id), {
        timeout: 15_000,
      })
      .toBe(1);
    await expect.poll(async () => (await api.call('POST', '/api/auth/logout', { token: tablet.token })).status, { timeout: 15_000 }).toBe(200);
    // The new number jumped (the counter restarted from the clock): the stream reads what it missed.
    const phoneEvent = await watcher.until(isRevocationOf(phone.session.id));
    const tabletEvent = await watcher.until(isRevocationOf(tablet.session.id));
    expect(watcher.seen.indexOf(phoneEvent)).toBeLessThan(watcher.seen.indexOf(tabletEvent));
    watcher.close();
  });
});
