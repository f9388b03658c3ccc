import { beforeAll, describe, expect, it } from 'vitest';
import { gql, loginUser, ok, PASSWORD, registerUser, revocations, sseClient, type AuthPayload } from './support/client.js';
import { readToEnd } from './support/events.js';
import { LogoutAllDocument, LogoutDocument, RevokeSessionDocument, SessionsDocument } from './support/operations.js';
import { redisKeys } from '../src/redis-keys.js';
import { recordCommands, type ServerFixture, useTestServer } from './support/server.js';
import { eventData, openRestEvents, type RawEventStream, type SseItem } from './support/sse.js';

interface Seen {
  sessionId: string;
  reason: string;
  current: boolean;
}

async function restEvents(stream: RawEventStream): Promise<Seen[]> {
  const items = await stream.readToEnd();
  return items.flatMap((item) => (item.kind === 'event' && item.event === 'session-revoked' ? [JSON.parse(item.data) as Seen] : []));
}

describe('revocations racing on two instances', () => {
  const one = useTestServer({ env: { SERVER_ID: 'one' } });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });

  it('count, store and announce every session exactly once, in the same order on every stream', async () => {
    for (let round = 0; round < 3; round += 1) {
      const owner = await registerUser(one.graphqlUrl);
      const login = (server: ServerFixture, n: number): Promise<AuthPayload> =>
        loginUser(server.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: `device ${n}` });
      const devices = await Promise.all([0, 1, 2, 3, 4, 5].map((n) => login(n % 2 ? two : one, n)));
      const [watcherOne, watcherTwo] = await Promise.all([login(one, 6), login(two, 7)]);
      const everyone = [owner, ...devices, watcherOne!, watcherTwo!].map((s) => s.session.id);

      // A REST stream on instance one and a GraphQL stream on instance two.
      const rest = await openRestEvents(one, watcherOne!.token);
      const client = sseClient(two.graphqlUrl, watcherTwo!.token);
      const graphql = readToEnd(revocations(client));
      await expect.poll(() => two.services.streams.running).toBe(1);

      const [d0, d1, d2, d3, d4] = devices as [AuthPayload, AuthPayload, AuthPayload, AuthPayload, AuthPayload];
      const [allA, allB, logout, revoke] = await Promise.all([
        gql(one.graphqlUrl, LogoutAllDocument, {}, { token: d0.token }),
        gql(two.graphqlUrl, LogoutAllDocument, {}, { token: d1.token }),
        gql(one.graphqlUrl, LogoutDocument, {}, { token: d2.token }),
        gql(two.graphqlUrl, RevokeSessionDocument, { id: d3.session.id }, { token: d4.token }),
      ]);
      // Who revoked what, as the callers were told.
      const claimedBy = new Map<string, string>();
      const claim = (ids: readonly string[], reason: string): void => {
        for (const id of ids) {
          expect(claimedBy.has(id), `${id} reported by two calls`).toBe(false);
          claimedBy.set(id, reason);
        }
      };
      claim(allA.data?.logoutAll.revokedSessionIds ?? [], 'LOGOUT_ALL');
      claim(allB.data?.logoutAll.revokedSessionIds ?? [], 'LOGOUT_ALL');
      if (logout.data?.logout) claim([d2.session.id], 'LOGOUT');
      if (revoke.data?.revokeSession) claim([d3.session.id], 'REVOKED');
      expect((allA.data?.logoutAll.revokedCount ?? 0) + (allB.data?.logoutAll.revokedCount ?? 0)).toBe(
        (allA.data?.logoutAll.revokedSessionIds.length ?? 0) + (allB.data?.logoutAll.revokedSessionIds.length ?? 0),
      );
      // Together the calls revoked each session once: the counts add up to the number of sessions.
      expect([...claimedBy.keys()].sort()).toEqual([...everyone].sort());

      // The record keeps the claimer's reason, and one number per call (the sessions' own
      // documents are marked just after the answers).
      await expect
        .poll(async () => (await one.services.models.Session.find({ userId: owner.user.id, revokedAt: null }).lean()).length)
        .toBe(0);
      const records = await one.services.models.Session.find({ userId: owner.user.id }).lean();
      for (const record of records) expect(record.revokedReason).toBe(claimedBy.get(record.sessionId));
      const seqOf = new Map(records.map((r) => [r.sessionId, r.revokedSeq]));

      const viaRest = await restEvents(rest);
      const viaGraphql = (await graphql).map((e) => e.data?.sessionRevoked as Seen);
      client.dispose();
      for (const [seen, own] of [
        [viaRest, watcherOne!.session.id],
        [viaGraphql, watcherTwo!.session.id],
      ] as const) {
        // Every session once, with the reason its claimer gave, the stream's own last.
        expect(seen.map((e) => e.sessionId).sort()).toEqual([...everyone].sort());
        for (const event of seen) expect(event.reason).toBe(claimedBy.get(event.sessionId));
        expect(seen.at(-1)).toMatchObject({ sessionId: own, current: true });
        expect(seen.filter((e) => e.current)).toHaveLength(1);
        // In the order of the calls' numbers.
        const numbers = seen.slice(0, -1).map((e) => seqOf.get(e.sessionId)!);
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      }
      // Both streams told the same story, apart from where each one's own event ended it.
      const others = (seen: Seen[]): string[] =>
        seen.map((e) => e.sessionId).filter((id) => id !== watcherOne!.session.id && id !== watcherTwo!.session.id);
      expect(others(viaRest)).toEqual(others(viaGraphql));
    }
  });
});

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
