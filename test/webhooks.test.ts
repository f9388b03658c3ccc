import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCreatedEvent, userBlockedEvent } from '../src/webhooks/events.js';
import { restClient } from './support/rest.js';
import { dropDatabase, startServer, testDatabaseUri, type TestServer } from './support/server.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const ADMIN_KEY = 'webhook-test-admin-key-long-enough-0123456789';

interface Delivery {
  id: string;
  body: string;
  type: string;
  data: Record<string, unknown>;
}

/**
 * A receiver on loopback, written from the Standard Webhooks spec alone: it
 * checks every signature, answers 500 to the users it is told to fail (and to
 * the next `failNext` requests), and keeps what it accepted, per path.
 */
function startReceiver() {
  const accepted = new Map<string, Delivery[]>();
  const refused: string[] = [];
  const badSignatures: string[] = [];
  const failing = new Set<string>();
  const hanging: string[] = [];
  let failNext = 0;
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const server: Server = createServer((req, res) => {
    // A receiver that never answers.
    if (req.url === '/hang') {
      hanging.push(String(req.headers['webhook-id']));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id']);
      const timestamp = String(req.headers['webhook-timestamp']);
      const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
      const signed = String(req.headers['webhook-signature'] ?? '')
        .split(' ')
        .some((entry) => {
          const [version, signature] = entry.split(',');
          const given = Buffer.from(signature ?? '', 'base64');
          return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
        });
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      if (!signed || !fresh) {
        badSignatures.push(id);
        res.writeHead(400).end();
        return;
      }
      const event = JSON.parse(body) as { type: string; timestamp: string; data: Record<string, unknown> };
      if (failNext > 0 || failing.has(String(event.data.userId))) {
        failNext = Math.max(0, failNext - 1);
        refused.push(`${req.url} ${String(event.data.userId)} ${event.type}`);
        res.writeHead(500).end();
        return;
      }
      const list = accepted.get(req.url ?? '') ?? [];
      list.push({ id, body, type: event.type, data: event.data });
      accepted.set(req.url ?? '', list);
      res.writeHead(204).end();
    });
  });
  return {
    accepted,
    refused,
    hanging,
    badSignatures,
    failing,
    failNextRequests(n: number) {
      failNext = n;
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One user's events as received on one path: duplicates (same id, same body) dropped, in arrival order. */
function eventsOf(deliveries: readonly Delivery[] | undefined, userId: string): Array<{ type: string; data: Record<string, unknown> }> {
  const byId = new Map<string, Delivery>();
  const ordered: Delivery[] = [];
  for (const delivery of deliveries ?? []) {
    const earlier = byId.get(delivery.id);
    if (earlier) {
      // A duplicate is the same message: same id, same body.
      expect(delivery.body).toBe(earlier.body);
      continue;
    }
    byId.set(delivery.id, delivery);
    if (delivery.data.userId === userId) ordered.push(delivery);
  }
  return ordered.map(({ type, data }) => ({ type, data }));
}

describe('webhooks', () => {
  const receiver = startReceiver();
  const mongoUri = testDatabaseUri();
  let base = '';
  const servers: TestServer[] = [];
  const start = async (paths = ['/a', '/b']): Promise<TestServer> => {
    const server = await startServer({
      env: {
        MONGODB_URI: mongoUri,
        WEBHOOK_URL: paths.map((path) => `${base}${path}`).join(','),
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_BASE_MS: '100',
        ADMIN_API_KEYS: ADMIN_KEY,
      },
    });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    base = await receiver.listen();
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await receiver.close();
    await dropDatabase(mongoUri);
  });

  it('delivers every event, signed, in order per user, across a restart while a retry is pending', async () => {
    const first = await start();
    let api = restClient(first);
    // Nothing of the first user is accepted until told otherwise: its head keeps failing.
    const alice = await api.register({ deviceInfo: 'laptop' });
    receiver.failing.add(alice.user.id);
    const tablet = await api.login({ email: alice.email, deviceInfo: 'tablet' });
    const bob = await api.register({ deviceInfo: 'phone' });

    // The other user's events are not held up by the failing one's, on either endpoint.
    await expect.poll(() => eventsOf(receiver.accepted.get('/a'), bob.user.id).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => receiver.refused.filter((r) => r.startsWith(`/a ${alice.user.id}`)).length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(eventsOf(receiver.accepted.get('/a'), alice.user.id)).toEqual([]);

    // Restarted while alice's retries are pending: the outbox is in MongoDB.
    await first.close();
    const second = await start();
    api = restClient(second);
    // The receiver heals, after a few more failures of whatever comes next.
    receiver.failNextRequests(3);
    receiver.failing.clear();
    const logout = await api.post('/api/auth/logout', { token: tablet.token });
    expect(logout.status).toBe(200);
    const changed = await api.post('/api/auth/password', { token: alice.token, json: { currentPassword: alice.password, newPassword: 'a-new-password-1' } });
    expect(changed.status).toBe(200);
    const blocked = await api.post(`/api/admin/users/${bob.user.id}/block`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(blocked.status).toBe(200);
    const deleted = await api.delete('/api/auth/account', { token: alice.token, json: { password: 'a-new-password-1' } });
    expect(deleted.status).toBe(204);

    const expectedAlice = [
      { type: 'session.created', data: { userId: alice.user.id, session: expect.objectContaining({ id: alice.session.id, deviceInfo: 'laptop' }) } },
      { type: 'session.created', data: { userId: alice.user.id, session: expect.objectContaining({ id: tablet.session.id, deviceInfo: 'tablet' }) } },
      { type: 'session.revoked', data: expect.objectContaining({ userId: alice.user.id, sessionId: tablet.session.id, reason: 'LOGOUT', lastSession: false }) },
      { type: 'password.changed', data: { userId: alice.user.id, revokedCount: 0 } },
      { type: 'session.revoked', data: expect.objectContaining({ userId: alice.user.id, sessionId: alice.session.id, reason: 'ACCOUNT_DELETED', lastSession: true }) },
      { type: 'account.deleted', data: { userId: alice.user.id } },
    ];
    // A block is written before it happens (then confirmed with what it revoked): it comes before its revocations.
    const expectedBob = [
      { type: 'session.created', data: { userId: bob.user.id, session: expect.objectContaining({ id: bob.session.id }) } },
      { type: 'user.blocked', data: { userId: bob.user.id, revokedSessionIds: [bob.session.id] } },
      { type: 'session.revoked', data: expect.objectContaining({ userId: bob.user.id, sessionId: bob.session.id, reason: 'ADMIN_REVOKED', lastSession: true }) },
    ];
    for (const path of ['/a', '/b']) {
      await expect.poll(() => eventsOf(receiver.accepted.get(path), alice.user.id).length, { timeout: 60_000 }).toBe(expectedAlice.length);
      await expect.poll(() => eventsOf(receiver.accepted.get(path), bob.user.id).length, { timeout: 60_000 }).toBe(expectedBob.length);
      expect(eventsOf(receiver.accepted.get(path), alice.user.id)).toEqual(expectedAlice);
      expect(eventsOf(receiver.accepted.get(path), bob.user.id)).toEqual(expectedBob);
    }
    expect(receiver.badSignatures).toEqual([]);
    // Everything delivered is gone from the outbox.
    await expect.poll(() => second.services.models.Webhook.countDocuments({}), { timeout: 10_000 }).toBe(0);
  });

  it('writes a sign-in, a password change or a block before it happens: never confirmed (the instance died), it is sent if the change happened and dropped if not', async () => {
    const server = servers.at(-1)!;
    const dave = await restClient(server).register({ deviceInfo: 'laptop' });
    const { webhooks, models } = server.services;
    // What an instance that died between the two writes leaves: the events written, never confirmed.
    const ghost = randomUUID();
    const blockedAt = new Date();
    await webhooks.intend(dave.user.id, [
      sessionCreatedEvent(dave.user.id, { id: ghost, createdAt: new Date().toISOString() }), // that session never came to be
      userBlockedEvent(dave.user.id, blockedAt, null), // that block did
    ]);
    await models.User.updateOne({ _id: dave.user.id }, { $set: { blockedAt } });

    for (const path of ['/a', '/b']) {
      await expect.poll(() => eventsOf(receiver.accepted.get(path), dave.user.id).map((e) => e.type), { timeout: 30_000 }).toEqual(['session.created', 'user.blocked']);
      const [created, blocked] = eventsOf(receiver.accepted.get(path), dave.user.id);
      expect(created?.data).toEqual({ userId: dave.user.id, session: expect.objectContaining({ id: dave.session.id }) });
      // As written before the change: what it revoked was not known yet.
      expect(blocked?.data).toEqual({ userId: dave.user.id, revokedSessionIds: null });
    }
    // The sign-in that never happened was dropped, not sent, and nothing of dave's is left.
    await expect.poll(() => models.Webhook.countDocuments({ userId: dave.user.id }), { timeout: 30_000 }).toBe(0);
  });

  it('sends a revocation of many sessions as one event per session, in order, the last one saying so', async () => {
    const server = servers.at(-1)!;
    const api = restClient(server);
    const carol = await api.register({ deviceInfo: 'device 0' });
    const devices = [carol];
    for (let i = 1; i < 30; i += 1) devices.push({ ...carol, ...(await api.login({ email: carol.email, deviceInfo: `device ${i}` })) });
    const all = await api.post('/api/auth/logout-all', { token: carol.token });
    expect(all.status).toBe(200);
    const revoked = (all.body as { revokedSessionIds: string[] }).revokedSessionIds;
    expect(revoked).toHaveLength(30);

    await expect.poll(() => eventsOf(receiver.accepted.get('/b'), carol.user.id).length, { timeout: 60_000 }).toBe(60);
    const events = eventsOf(receiver.accepted.get('/b'), carol.user.id);
    expect(events.slice(0, 30).map((e) => (e.data.session as { id: string }).id)).toEqual(devices.map((d) => d.session.id));
    expect(events.slice(30).map((e) => [e.type, e.data.sessionId, e.data.reason, e.data.lastSession])).toEqual(
      revoked.map((id, i) => ['session.revoked', id, 'LOGOUT_ALL', i === revoked.length - 1]),
    );
  });

  it('lets sign-ins and sign-outs go on, and the server stop, while a receiver never answers', async () => {
    const server = await start(['/hang']);
    const api = restClient(server);
    const dave = await api.register();
    await expect.poll(() => receiver.hanging.length, { timeout: 20_000 }).toBeGreaterThan(0);
    // The delivery is stuck on the receiver; the requests that enqueue events are not.
    const laptop = await api.login({ email: dave.email, deviceInfo: 'laptop' });
    expect((await api.post('/api/auth/logout', { token: laptop.token })).status).toBe(200);
    expect((await api.post('/api/auth/logout-all', { token: dave.token })).status).toBe(200);
    // Shutdown cuts the attempt in flight short; the events stay in the outbox, not counted as attempted.
    await server.close();
    const connection = await mongoose.createConnection(mongoUri).asPromise();
    const left = await connection.collection('webhooks').find({ endpoint: `${base}/hang`, userId: dave.user.id }).sort({ seq: 1 }).toArray();
    await connection.close();
    expect(left.map((e) => [e.type, e.attempts])).toEqual([
      ['session.created', 0],
      ['session.created', 0],
      ['session.revoked', 0],
      ['session.revoked', 0],
    ]);
  });
});
