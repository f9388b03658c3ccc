import { describe, expect, it } from 'vitest';
import { loginUser, ok, PASSWORD, registerUser, sseClient, revocations } from './support/client.js';
import { readToEnd, take, waitForSubscribers } from './support/events.js';
import { LogoutAllDocument, LogoutDocument, RevokeSessionDocument } from './support/operations.js';
import { holdSubscription, interceptPubSub } from './support/pubsub.js';
import { useTestServer } from './support/server.js';

describe('no revocation falls between authentication and subscription', () => {
  const server = useTestServer();

  it('delivers the subscriber\'s own revocation made in the gap, then completes', async () => {
    const url = server.graphqlUrl;
    const a = await registerUser(url);
    const b = await loginUser(url, { email: a.email, password: PASSWORD });
    const restore = holdSubscription(server.services, () => ok(url, LogoutAllDocument, {}, a.token), 'before-subscribe');
    try {
      const client = sseClient(url, b.token);
      const events = await readToEnd(revocations(client));
      expect(events.map((e) => e.data?.sessionRevoked)).toContainEqual(
        expect.objectContaining({ sessionId: b.session.id, reason: 'LOGOUT_ALL', current: true }),
      );
      expect(events.at(-1)?.data?.sessionRevoked?.current).toBe(true);
      client.dispose();
    } finally {
      restore();
    }
  });

  it('delivers another session\'s revocation made in the gap and stays open', async () => {
    const url = server.graphqlUrl;
    const a = await registerUser(url);
    const b = await loginUser(url, { email: a.email, password: PASSWORD });
    const restore = holdSubscription(server.services, () => ok(url, RevokeSessionDocument, { id: b.session.id }, a.token), 'before-subscribe');
    try {
      const client = sseClient(url, a.token);
      const iterator = revocations(client);
      const [event] = await take(iterator, 1);
      expect(event?.data?.sessionRevoked).toMatchObject({ sessionId: b.session.id, reason: 'REVOKED', current: false });
      // Still open: the next event is the subscriber's own logout.
      const rest = readToEnd({ [Symbol.asyncIterator]: () => iterator });
      await ok(url, LogoutAllDocument, {}, a.token);
      expect((await rest).map((e) => e.data?.sessionRevoked?.sessionId)).toEqual([a.session.id]);
      client.dispose();
    } finally {
      restore();
    }
  });
});

describe('no revocation is lost to a late announcement', () => {
  const server = useTestServer();

  it('delivers a revocation announced after the subscriber\'s own, before its own', async () => {
    const url = server.graphqlUrl;
    const admin = await registerUser(url);
    const slow = await loginUser(url, { email: admin.email, password: PASSWORD });
    const watcher = await loginUser(url, { email: admin.email, password: PASSWORD });

    const client = sseClient(url, watcher.token);
    const events = readToEnd(revocations(client));
    await waitForSubscribers(server.services, admin.user.id, 1);

    // `slow` logs out first, but its announcement is held back (as when another
    // instance's publish reaches Redis late) until the watcher's stream has ended.
    let release = (): void => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const restore = interceptPubSub(server.services, (real) => ({
      async publish(topic, key, payload) {
        if ('sessionIds' in payload && payload.sessionIds.includes(slow.session.id)) await held;
        return real.publish(topic, key, payload);
      },
    }));
    try {
      const logout = ok(url, LogoutDocument, {}, slow.token);
      await expect.poll(async () => (await server.services.models.Session.findOne({ sessionId: slow.session.id }).lean())?.revokedAt).toBeInstanceOf(Date);
      await ok(url, LogoutAllDocument, {}, admin.token);

      const seen = (await events).map((e) => e.data?.sessionRevoked);
      expect(seen.map((e) => e?.sessionId).sort()).toEqual([admin.session.id, slow.session.id, watcher.session.id].sort());
      expect(seen.find((e) => e?.sessionId === slow.session.id)).toMatchObject({ reason: 'LOGOUT', current: false });
      expect(seen.at(-1)).toMatchObject({ sessionId: watcher.session.id, reason: 'LOGOUT_ALL', current: true });
      release();
      expect(await logout).toEqual({ logout: true });
    } finally {
      release();
      restore();
      client.dispose();
    }
  });
});
