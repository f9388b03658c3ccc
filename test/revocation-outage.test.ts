import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PubSub } from '../src/pubsub.js';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { startOwnFerretDb, type OwnFerretDb } from './support/ferretdb.js';
import { startServer, type ServerFixture, type TestServer, useTestServer } from './support/server.js';
import { isEvent, openEventStream, type RawEventStream } from './support/sse.js';

async function restStream(server: TestServer, token: string): Promise<RawEventStream> {
  const stream = await openEventStream(`${server.url}/api/auth/events`, { authorization: `Bearer ${token}` });
  expect(stream.response.status).toBe(200);
  await stream.until(isEvent('connected'));
  return stream;
}

const revokedEvent = (sessionId: string) => (item: { kind: string; event?: string; data?: string }) =>
  item.kind === 'event' && item.event === 'session-revoked' && JSON.parse(item.data ?? '{}').sessionId === sessionId;

async function rest(server: TestServer, method: string, path: string, token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

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

  it('holds the revocation at once and completes the record and the announcement when MongoDB is back', async () => {
    const owner = await registerUser(server.graphqlUrl);
    const phone = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const watcher = await restStream(server, owner.token);

    await ferret.stop();
    // The session check needs no MongoDB (cache); the revocation's claim holds in Redis.
    expect(await rest(server, 'POST', '/api/auth/logout', phone.token)).toEqual({ status: 200, body: { success: true } });
    expect((await rest(server, 'GET', '/api/auth/me', phone.token)).status).toBe(401);
    // Not done yet: waiting in the outbox.
    expect(await server.services.cache.inFlight(owner.user.id)).toMatchObject([{ sessionIds: [phone.session.id], reason: 'LOGOUT' }]);

    await ferret.start();
    // Any instance's outbox sweep completes it (the timer would too; this does not wait for it).
    await expect
      .poll(
        async () => {
          await server.services.outbox.sweep();
          return (await server.services.models.Session.findOne({ sessionId: phone.session.id }).lean())?.revokedReason;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe('LOGOUT');
    const event = await watcher.until(revokedEvent(phone.session.id));
    expect(JSON.parse((event as { data: string }).data)).toMatchObject({ reason: 'LOGOUT', current: false });
    const listed = (await rest(server, 'GET', '/api/auth/sessions', owner.token)).body as { sessions: Array<{ id: string }> };
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
    const watcher = await restStream(two, owner.token);

    // What revokeSessions does first, on instance one, which then dies before the record.
    const claimed = await one.services.cache.claim(
      { userId: owner.user.id, sessionIds: [phone.session.id], reason: 'REVOKED', revokedAt: new Date().toISOString(), dueAt: Date.now() },
      60_000,
    );
    expect(claimed?.sessionIds).toEqual([phone.session.id]);
    expect((await rest(two, 'GET', '/api/auth/me', phone.token)).status).toBe(401);

    expect(await two.services.outbox.sweep()).toBeGreaterThanOrEqual(1);
    const event = await watcher.until(revokedEvent(phone.session.id));
    expect(JSON.parse((event as { data: string }).data)).toMatchObject({ reason: 'REVOKED', current: false });
    const session = await two.services.models.Session.findOne({ sessionId: phone.session.id }).lean();
    expect(session).toMatchObject({ revokedReason: 'REVOKED', revokedSeq: claimed?.seq });
    const record = await two.services.models.Revocation.findOne({ userId: owner.user.id, seq: claimed?.seq }).lean();
    expect(record).toMatchObject({ reason: 'REVOKED', sessionIds: [phone.session.id] });
    // Swept once: nothing is announced twice.
    expect(await two.services.outbox.sweep()).toBe(0);
    watcher.close();
  });
});

describe('Redis going away between the record and the announcement', () => {
  const server: ServerFixture = useTestServer({ ownRedis: true });

  it('answers success, and the next revocation brings the lost announcement to the stream, in order', async () => {
    const owner = await registerUser(server.graphqlUrl);
    const phone = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const tablet = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'tablet' });
    const watcher = await restStream(server, owner.token);

    // Redis is killed just before the announcement (its data is lost with it: no persistence).
    const real: PubSub = server.services.pubsub;
    let killed = false;
    server.services.pubsub = {
      ...real,
      async publish(topic, key, payload) {
        if (!killed) {
          killed = true;
          await server.redis.stop();
        }
        return real.publish(topic, key, payload);
      },
    };
    try {
      expect(await rest(server, 'POST', '/api/auth/logout', phone.token)).toEqual({ status: 200, body: { success: true } });
    } finally {
      server.services.pubsub = real;
    }
    expect(await server.services.models.Revocation.findOne({ userId: owner.user.id }).lean()).toMatchObject({ reason: 'LOGOUT' });

    await server.redis.start();
    // The stream's subscription comes back with the connection.
    await expect
      .poll(async () => Number(((await server.services.redis!.call('PUBSUB', 'NUMSUB', `la:sessionRevoked:${owner.user.id}`)) as [string, number])[1]), {
        timeout: 15_000,
      })
      .toBe(1);
    await expect.poll(async () => (await rest(server, 'POST', '/api/auth/logout', tablet.token)).status, { timeout: 15_000 }).toBe(200);
    // The new number jumped (the counter restarted from the clock): the stream reads what it missed.
    const phoneEvent = await watcher.until(revokedEvent(phone.session.id));
    const tabletEvent = await watcher.until(revokedEvent(tablet.session.id));
    expect(watcher.seen.indexOf(phoneEvent)).toBeLessThan(watcher.seen.indexOf(tabletEvent));
    watcher.close();
  });
});
