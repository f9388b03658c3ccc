import { beforeAll, describe, expect, it } from 'vitest';
import { gql, loginUser, ok, PASSWORD, registerUser } from './support/client.js';
import { LogoutAllDocument, LogoutDocument, SessionsDocument } from './support/operations.js';
import { redisKeys } from '../src/redis-keys.js';
import { racingRevocationFlows } from './flows/racing-revocations.js';
import { recordCommands, useTestServer } from './support/server.js';
import { eventData, openRestEvents, restEvents, type SseItem } from './support/sse.js';

describe('revocations racing on two instances', () => racingRevocationFlows());

describe('database work per revocation', () => {
  const server = useTestServer({ monitorCommands: true, env: { STREAMS_PER_SESSION: '100', STREAMS_PER_USER: '100' } });
  let commands: string[] = [];
  beforeAll(() => {
    commands = recordCommands(server);
  });

  /** The MongoDB commands of a logoutAll heard by `streams` open streams, up to the last stream's end. */
  async function logoutAllCommands(streams: number): Promise<string[]> {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const open = await Promise.all(Array.from({ length: streams }, () => openRestEvents(server, other.token)));
    commands.length = 0;
    const result = await ok(server.graphqlUrl, LogoutAllDocument, {}, user.token);
    expect(result.logoutAll.revokedCount).toBe(2);
    for (const stream of open) expect((await restEvents(stream)).map((e) => e.current)).toEqual([false, true]);
    // Until the sessions' documents and the record are marked too (just after the answer).
    await server.services.revocations.idle();
    return [...commands].sort();
  }

  it('is the same few MongoDB commands for one open stream and for fifty', async () => {
    const withOne = await logoutAllCommands(1);
    const withFifty = await logoutAllCommands(50);
    expect(withFifty).toEqual(withOne);
    // The active-session read with the user's unmarked revocations (src/revocation/durable.ts), the
    // revocation's record, the timeline entry (SIGNED_OUT_EVERYWHERE, naming the acting device from
    // the Redis list), and the marking: the sessions, then the record.
    expect(withOne).toEqual(['find', 'find', 'insert', 'insert', 'update', 'update']);
  });
});

describe('logoutAll and the Redis session list', () => {
  const server = useTestServer();

  it('revokes and announces a session the list does not know of (MongoDB is the authority), in one revocation', async () => {
    const owner = await registerUser(server.graphqlUrl);
    const known = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'known' });
    const unlisted = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'unlisted' });
    // As after a sign-in whose list write failed: the list lacks that session.
    const redis = server.services.redis!;
    expect(await redis.hdel(redisKeys.sessions(owner.user.id), `s:${unlisted.session.id}`)).toBe(1);
    // The caller's own session stays (exceptCurrent), so its stream hears of every other one.
    const stream = await openRestEvents(server, owner.token);

    const result = await ok(server.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, owner.token);
    const others = [known, unlisted].map((s) => s.session.id);
    expect(result.logoutAll.revokedCount).toBe(2);
    expect([...result.logoutAll.revokedSessionIds].sort()).toEqual([...others].sort());
    // One revocation, newest session first.
    const revoked = (item: SseItem): boolean => item.kind === 'event' && item.event === 'session-revoked';
    const seen = [await stream.until(revoked), await stream.until(revoked)].map((item) => eventData(item));
    expect(seen).toEqual([
      { sessionId: unlisted.session.id, reason: 'LOGOUT_ALL', current: false, revokedAt: expect.any(String) },
      { sessionId: known.session.id, reason: 'LOGOUT_ALL', current: false, revokedAt: expect.any(String) },
    ]);
    expect(seen[0]?.revokedAt).toBe(seen[1]?.revokedAt);
    stream.close();
    for (const device of [known, unlisted]) {
      expect((await gql(server.graphqlUrl, LogoutDocument, {}, { token: device.token })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect((await ok(server.graphqlUrl, SessionsDocument, {}, owner.token)).sessions.map((s) => s.id)).toEqual([owner.session.id]);
  });
});

describe('a revocation whose record is slow', () => {
  const server = useTestServer();

  it('still comes before the viewer\'s own revocation numbered after it', async () => {
    const owner = await registerUser(server.graphqlUrl);
    const slow = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'slow' });
    const watcher = await loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'watcher' });
    const stream = await openRestEvents(server, watcher.token);

    // The first revocation's record write waits (a slow MongoDB) until the stream has ended.
    const { Revocation } = server.services.models;
    const realCreate = Revocation.create.bind(Revocation);
    let release = (): void => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    Revocation.create = (async (...args: Parameters<typeof realCreate>) => {
      if (first) {
        first = false;
        await held;
      }
      return realCreate(...args);
    }) as typeof Revocation.create;
    try {
      const slowLogout = gql(server.graphqlUrl, LogoutDocument, {}, { token: slow.token });
      await expect.poll(async () => (await server.services.ledger.inFlight(owner.user.id)).length).toBe(1);
      await ok(server.graphqlUrl, LogoutAllDocument, {}, owner.token);
      const seen = await restEvents(stream);
      expect(seen.map((e) => e.sessionId)).toEqual([slow.session.id, owner.session.id, watcher.session.id]);
      expect(seen[0]).toMatchObject({ reason: 'LOGOUT', current: false });
      release();
      expect((await slowLogout).data).toEqual({ logout: true });
    } finally {
      release();
      Revocation.create = realCreate as typeof Revocation.create;
    }
  });
});
