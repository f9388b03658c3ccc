import { describe, expect, it } from 'vitest';
import { authenticate } from '../src/auth/authenticate.js';
import { finishPendingDeletions } from '../src/account/deletion.js';
import { confirmSignIn, createSession } from '../src/sessions/sign-in.js';
import { toUserView } from '../src/auth/viewer.js';
import {
  errorCodes,
  gql,
  loginUser,
  NEW_PASSWORD,
  ok,
  PASSWORD,
  registerUser,
  revocations,
  sessionCreations,
  sseClient,
  uniqueEmail,
} from './support/client.js';
import { readToEnd, take, waitForSubscribers } from './support/events.js';
import {
  ChangePasswordDocument,
  DeleteAccountDocument,
  LoginDocument,
  LogoutAllDocument,
  LogoutDocument,
  MeDocument,
  RegisterDocument,
  RevokeSessionDocument,
  SecurityEventsDocument,
  SessionsDocument,
} from './support/operations.js';
import { startServer, useTestServer } from './support/server.js';
import { holdSubscription } from './support/pubsub.js';

describe('account security across two instances (GraphQL)', () => {
  const one = useTestServer({ ownRedis: true, env: { SERVER_ID: 'one' } });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });

  /** The whole timeline of `token`'s account, read `pageSize` at a time; returns the pages. */
  async function timeline(url: string, token: string, pageSize = 100) {
    const pages = [];
    let after: string | null = null;
    do {
      const { securityEvents }: { securityEvents: { events: Array<{ type: string; sessionId?: string | null; current: boolean; ipAddress: string; deviceInfo: string; at: string; id: string }>; nextCursor?: string | null } } =
        await ok(url, SecurityEventsDocument, { first: pageSize, after }, token);
      pages.push(securityEvents.events);
      after = securityEvents.nextCursor ?? null;
    } while (after !== null);
    return pages;
  }

  it('changePassword: refuses the old password and other devices at once, ends their streams, keeps the caller', async () => {
    const laptop = await registerUser(one.graphqlUrl, { deviceInfo: 'laptop' });
    const phone = await loginUser(two.graphqlUrl, { email: laptop.email, password: PASSWORD, deviceInfo: 'phone' });
    const tablet = await loginUser(one.graphqlUrl, { email: laptop.email, password: PASSWORD, deviceInfo: 'tablet' });

    const phoneClient = sseClient(two.graphqlUrl, phone.token);
    const phoneEvents = readToEnd(revocations(phoneClient));
    await waitForSubscribers(two.services, laptop.user.id, 1);

    // Bad input first: nothing changes.
    expect(await errorCodes(one.graphqlUrl, ChangePasswordDocument, { currentPassword: 'not my password', newPassword: NEW_PASSWORD }, laptop.token)).toEqual(['INVALID_CREDENTIALS']);
    expect(await errorCodes(one.graphqlUrl, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: 'short' }, laptop.token)).toEqual(['BAD_USER_INPUT']);
    expect(await errorCodes(one.graphqlUrl, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: PASSWORD }, laptop.token)).toEqual(['BAD_USER_INPUT']);
    expect(await errorCodes(one.graphqlUrl, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).toEqual(['UNAUTHENTICATED']);
    expect((await ok(two.graphqlUrl, MeDocument, {}, phone.token)).me.id).toBe(laptop.user.id);

    const changed = await ok(one.graphqlUrl, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, laptop.token);
    expect(changed).toEqual({ changePassword: { revokedCount: 2 } });

    // Refused on both instances as soon as the mutation answered.
    for (const url of [one.graphqlUrl, two.graphqlUrl]) {
      expect(await errorCodes(url, MeDocument, {}, phone.token)).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, MeDocument, {}, tablet.token)).toEqual(['UNAUTHENTICATED']);
      expect((await ok(url, MeDocument, {}, laptop.token)).me.id).toBe(laptop.user.id);
    }
    const events = (await phoneEvents).map((e) => e.data?.sessionRevoked);
    expect(events.at(-1)).toMatchObject({ sessionId: phone.session.id, reason: 'PASSWORD_CHANGED', current: true });
    expect(events.map((e) => e?.sessionId).sort()).toEqual([phone.session.id, tablet.session.id].sort());
    phoneClient.dispose();

    expect(await errorCodes(two.graphqlUrl, LoginDocument, { input: { email: laptop.email, password: PASSWORD } })).toEqual(['INVALID_CREDENTIALS']);
    await loginUser(two.graphqlUrl, { email: laptop.email, password: NEW_PASSWORD });
    const { sessions } = await ok(one.graphqlUrl, SessionsDocument, {}, laptop.token);
    expect(sessions.map((s) => s.deviceInfo)).toEqual([expect.any(String), 'laptop']);
  });

  it('sessionCreated: other live streams on both instances hear a new sign-in, its own stream does not', async () => {
    const first = await registerUser(one.graphqlUrl, { deviceInfo: 'first' });
    const second = await loginUser(two.graphqlUrl, { email: first.email, password: PASSWORD, deviceInfo: 'second' });

    const firstClient = sseClient(one.graphqlUrl, first.token);
    const secondClient = sseClient(two.graphqlUrl, second.token);
    const firstStream = sessionCreations(firstClient);
    const secondStream = sessionCreations(secondClient);
    const firstHeard = take(firstStream, 1);
    const secondHeard = take(secondStream, 1);

    // One subscriber connection per instance (PUBSUB NUMSUB counts connections, not streams).
    await waitForSubscribers(one.services, first.user.id, 2, 'sessionCreated');

    // A failed sign-in is not announced; the third device's sign-in is.
    expect(await errorCodes(one.graphqlUrl, LoginDocument, { input: { email: first.email, password: 'wrong password' } })).toEqual(['INVALID_CREDENTIALS']);
    const third = await loginUser(one.graphqlUrl, { email: first.email, password: PASSWORD, deviceInfo: 'third' });
    const expected = {
      id: third.session.id,
      deviceInfo: 'third',
      ipAddress: '127.0.0.1',
      userAgent: third.session.userAgent,
      lastActivity: third.session.lastActivity,
      createdAt: third.session.createdAt,
      expiresAt: third.session.expiresAt,
      current: false,
    };
    expect((await firstHeard).map((e) => e.data?.sessionCreated)).toEqual([expected]);
    expect((await secondHeard).map((e) => e.data?.sessionCreated)).toEqual([expected]);

    // The third device's own stream, opened right after its sign-in, hears the fourth but not itself.
    // (On instance one, once the first device's stream there is gone, so that its start can be seen.)
    firstClient.dispose();
    await waitForSubscribers(one.services, first.user.id, 1, 'sessionCreated');
    const thirdClient = sseClient(one.graphqlUrl, third.token);
    const thirdStream = sessionCreations(thirdClient);
    const thirdHeard = take(thirdStream, 1);
    await waitForSubscribers(one.services, first.user.id, 2, 'sessionCreated');
    const fourth = await loginUser(two.graphqlUrl, { email: first.email, password: PASSWORD, deviceInfo: 'fourth' });
    expect((await thirdHeard).map((e) => e.data?.sessionCreated?.id)).toEqual([fourth.session.id]);
    expect((await take(secondStream, 1)).map((e) => e.data?.sessionCreated?.id)).toEqual([fourth.session.id]);

    // A signed-out device stops hearing of sign-ins: its stream ends.
    const secondRest = readToEnd({ [Symbol.asyncIterator]: () => secondStream });
    await ok(two.graphqlUrl, LogoutDocument, {}, second.token);
    expect(await secondRest).toEqual([]);
    for (const client of [firstClient, secondClient, thirdClient]) client.dispose();
  });

  it('sessionCreated: a sign-in between the stream\'s authentication and its start is still delivered', async () => {
    const watcher = await registerUser(one.graphqlUrl);
    let late: Awaited<ReturnType<typeof loginUser>> | undefined;
    const restore = holdSubscription(
      one.services,
      async () => {
        late = await loginUser(two.graphqlUrl, { email: watcher.email, password: PASSWORD, deviceInfo: 'late' });
      },
      'before-subscribe',
    );
    const client = sseClient(one.graphqlUrl, watcher.token);
    try {
      const heard = await take(sessionCreations(client), 1);
      expect(heard.map((e) => e.data?.sessionCreated)).toEqual([expect.objectContaining({ id: late?.session.id, deviceInfo: 'late', current: false })]);
    } finally {
      restore();
      client.dispose();
    }
  });

  it('deleteAccount: ends every stream with ACCOUNT_DELETED, refuses every token, frees the email', async () => {
    const owner = await registerUser(one.graphqlUrl, { deviceInfo: 'owner' });
    const phone = await loginUser(two.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'phone' });
    const tablet = await loginUser(one.graphqlUrl, { email: owner.email, password: PASSWORD, deviceInfo: 'tablet' });
    const clients = [sseClient(two.graphqlUrl, phone.token), sseClient(one.graphqlUrl, tablet.token), sseClient(one.graphqlUrl, owner.token)];
    const streams = clients.map((client) => readToEnd(revocations(client)));
    clients.push(sseClient(two.graphqlUrl, phone.token));
    const createdStream = readToEnd(sessionCreations(clients[3]!));
    await waitForSubscribers(one.services, owner.user.id, 2);
    await waitForSubscribers(two.services, owner.user.id, 1, 'sessionCreated');

    expect(await errorCodes(two.graphqlUrl, DeleteAccountDocument, { password: 'not my password' }, owner.token)).toEqual(['INVALID_CREDENTIALS']);
    expect(await errorCodes(two.graphqlUrl, DeleteAccountDocument, { password: '' }, owner.token)).toEqual(['BAD_USER_INPUT']);
    expect(await errorCodes(two.graphqlUrl, DeleteAccountDocument, { password: PASSWORD })).toEqual(['UNAUTHENTICATED']);
    expect(await ok(two.graphqlUrl, DeleteAccountDocument, { password: PASSWORD }, owner.token)).toEqual({ deleteAccount: true });

    const ends = await Promise.all(streams);
    for (const [i, session] of [phone.session, tablet.session, owner.session].entries()) {
      const own = ends[i]!.map((e) => e.data?.sessionRevoked).at(-1);
      expect(own).toMatchObject({ sessionId: session.id, reason: 'ACCOUNT_DELETED', current: true });
    }
    // It ends with its session, having told of nothing: no one signed in meanwhile.
    expect(await createdStream).toEqual([]);
    for (const url of [one.graphqlUrl, two.graphqlUrl]) {
      for (const token of [owner.token, phone.token, tablet.token]) expect(await errorCodes(url, MeDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
    }
    expect(await errorCodes(one.graphqlUrl, LoginDocument, { input: { email: owner.email, password: PASSWORD } })).toEqual(['INVALID_CREDENTIALS']);
    const { models } = one.services;
    expect(await models.Session.countDocuments({ userId: owner.user.id })).toBe(0);
    expect(await models.SecurityEvent.countDocuments({ userId: owner.user.id })).toBe(0);

    // The email registers again, as a new account that sees nothing of the old one.
    const again = await ok(one.graphqlUrl, RegisterDocument, { input: { name: 'Again', email: owner.email, password: PASSWORD } });
    expect(again.register.user.id).not.toBe(owner.user.id);
    const pages = await timeline(two.graphqlUrl, again.register.token);
    expect(pages.flat().map((e) => [e.type, e.sessionId])).toEqual([['SIGNED_IN', again.register.session.id]]);
    for (const client of clients) client.dispose();
  });

  it('an interrupted deletion is finished by the sweeper, in bounded runs, and by an instance as it starts', async () => {
    const { models } = one.services;
    const users = await Promise.all([1, 2, 3].map(() => registerUser(one.graphqlUrl)));
    const phone = await loginUser(two.graphqlUrl, { email: users[0]!.email, password: PASSWORD, deviceInfo: 'phone' });
    const client = sseClient(two.graphqlUrl, phone.token);
    const stream = readToEnd(revocations(client));
    await waitForSubscribers(two.services, users[0]!.user.id, 1);

    // As if deleteAccount had died right after its first step, the mark and the cached
    // profile's removal. (Just now: the
    // instances' own once-a-minute sweeps leave marks younger than 10 s alone.)
    const now = Date.now();
    for (const [i, user] of users.entries()) {
      await models.User.updateOne({ _id: user.user.id }, { $set: { deletingAt: new Date(now + i) } });
      await one.services.cache.clearUser(user.user.id);
    }
    // Marked is enough to refuse signing in and `me`.
    expect(await errorCodes(one.graphqlUrl, LoginDocument, { input: { email: users[0]!.email, password: PASSWORD } })).toEqual(['INVALID_CREDENTIALS']);
    expect(await errorCodes(two.graphqlUrl, MeDocument, {}, users[0]!.token)).toEqual(['UNAUTHENTICATED']);

    // Two per run here: the oldest two first.
    expect(await finishPendingDeletions(one.services, { limit: 2, graceMs: 0 })).toBe(2);
    expect((await stream).map((e) => e.data?.sessionRevoked).at(-1)).toMatchObject({ sessionId: phone.session.id, reason: 'ACCOUNT_DELETED', current: true });
    client.dispose();
    expect(await errorCodes(one.graphqlUrl, SessionsDocument, {}, phone.token)).toEqual(['UNAUTHENTICATED']);
    expect(await models.User.exists({ _id: users[1]!.user.id })).toBeNull();
    expect(await models.User.exists({ _id: users[2]!.user.id })).not.toBeNull();
    await registerUser(two.graphqlUrl, { email: users[0]!.email });

    // The third, marked a minute ago: a new instance finishes it before it serves.
    await models.User.updateOne({ _id: users[2]!.user.id }, { $set: { deletingAt: new Date(now - 60_000) } });
    const three = await startServer({ env: { MONGODB_URI: one.mongoUri, REDIS_URL: one.ownRedisUrl, SERVER_ID: 'three' } });
    try {
      expect(await models.User.exists({ _id: users[2]!.user.id })).toBeNull();
      expect(await errorCodes(three.graphqlUrl, MeDocument, {}, users[2]!.token)).toEqual(['UNAUTHENTICATED']);
      expect(await finishPendingDeletions(three.services, { graceMs: 0 })).toBe(0);
    } finally {
      await three.close();
    }
  });

  it('a sign-in that checked the password just before it changed, or before the account went, is revoked at once', async () => {
    const request = { ipAddress: '127.0.0.1', userAgent: 'racer' };
    const { models } = one.services;
    for (const change of ['password', 'deletion'] as const) {
      const owner = await registerUser(one.graphqlUrl);
      // The racing sign-in has verified the password against this hash...
      const checked = (await models.User.findById(owner.user.id).select('+password').lean())!;
      if (change === 'password') {
        await ok(two.graphqlUrl, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, owner.token);
      } else {
        await ok(two.graphqlUrl, DeleteAccountDocument, { password: PASSWORD }, owner.token);
      }
      // ...and only now opens its session, after the change read the sessions to revoke.
      const { token, session } = await createSession(one.services, toUserView(checked), request, 'racer');
      await expect(confirmSignIn(one.services, checked, session, 'racer', request)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      // Its token is refused by the session check itself on both instances (not only because the user is gone).
      for (const instance of [one, two]) expect((await authenticate(instance.services, token)).viewer, change).toBeNull();
    }
  });

  it('the timeline shows each event in order, pages correctly, and nothing of another account', async () => {
    const laptop = await registerUser(one.graphqlUrl, { deviceInfo: 'laptop' });
    const phone = await loginUser(two.graphqlUrl, { email: laptop.email, password: PASSWORD, deviceInfo: 'phone' });
    // Two failed attempts in a row: one entry (they are coalesced), recorded in the background.
    for (let i = 0; i < 2; i++) {
      expect(await errorCodes(two.graphqlUrl, LoginDocument, { input: { email: laptop.email, password: 'guess number one', deviceInfo: 'attacker' } })).toEqual(['INVALID_CREDENTIALS']);
    }
    await expect.poll(async () => (await timeline(one.graphqlUrl, laptop.token)).flat()[0]?.type).toBe('FAILED_SIGN_IN');
    // Unknown emails leave nothing anywhere.
    const before = await one.services.models.SecurityEvent.countDocuments({});
    expect(await errorCodes(two.graphqlUrl, LoginDocument, { input: { email: uniqueEmail('nobody'), password: PASSWORD } })).toEqual(['INVALID_CREDENTIALS']);
    await ok(two.graphqlUrl, LogoutDocument, {}, phone.token);
    const tablet = await loginUser(one.graphqlUrl, { email: laptop.email, password: PASSWORD, deviceInfo: 'tablet' });
    await ok(two.graphqlUrl, RevokeSessionDocument, { id: tablet.session.id }, laptop.token);
    await ok(one.graphqlUrl, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, laptop.token);
    await ok(two.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, laptop.token);
    expect(await one.services.models.SecurityEvent.countDocuments({})).toBe(before + 5);

    // Another account's actions do not show.
    const stranger = await registerUser(two.graphqlUrl);
    await ok(one.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, stranger.token);

    const pages = await timeline(two.graphqlUrl, laptop.token, 3);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 2]);
    const events = pages.flat();
    expect(events.map((e) => [e.type, e.deviceInfo, e.sessionId, e.current])).toEqual([
      ['SIGNED_OUT_EVERYWHERE', 'laptop', laptop.session.id, true],
      ['PASSWORD_CHANGED', 'laptop', laptop.session.id, true],
      ['SESSION_REVOKED', 'laptop', tablet.session.id, false],
      ['SIGNED_IN', 'tablet', tablet.session.id, false],
      ['SIGNED_OUT', 'phone', phone.session.id, false],
      ['FAILED_SIGN_IN', 'attacker', null, false],
      ['SIGNED_IN', 'phone', phone.session.id, false],
      ['SIGNED_IN', 'laptop', laptop.session.id, true],
    ]);
    for (const event of events) expect(event.ipAddress).toBe('127.0.0.1');
    const times = events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // Nothing secret in it.
    const text = JSON.stringify(events);
    for (const secret of [PASSWORD, NEW_PASSWORD, 'guess number one', laptop.token, phone.token]) expect(text).not.toContain(secret);

    const strangers = (await timeline(one.graphqlUrl, stranger.token)).flat();
    expect(strangers.map((e) => e.type)).toEqual(['SIGNED_OUT_EVERYWHERE', 'SIGNED_IN']);

    // Bad arguments: first outside 1..100, a forged cursor, another account's cursor.
    const firstPage = await ok(one.graphqlUrl, SecurityEventsDocument, { first: 1 }, laptop.token);
    const cursor = firstPage.securityEvents.nextCursor!;
    expect(cursor).toEqual(expect.any(String));
    // A forgery: the signature's last two characters changed (to something they are not).
    const forged = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const variables of [{ first: 0 }, { first: 101 }, { first: -5 }, { after: 'not-a-cursor' }, { after: forged }, { after: 'x'.repeat(5000) }]) {
      expect(await errorCodes(one.graphqlUrl, SecurityEventsDocument, variables, laptop.token), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
    expect(await errorCodes(one.graphqlUrl, SecurityEventsDocument, { after: cursor }, stranger.token)).toEqual(['BAD_USER_INPUT']);
    expect(await errorCodes(one.graphqlUrl, SecurityEventsDocument, {})).toEqual(['UNAUTHENTICATED']);
    const second = await ok(two.graphqlUrl, SecurityEventsDocument, { first: 1, after: cursor }, laptop.token);
    expect(second.securityEvents.events.map((e) => e.type)).toEqual(['PASSWORD_CHANGED']);
  });
});

describe('account security and the sign-in limits', () => {
  const server = useTestServer({ ownRedis: true, env: { RATE_LIMIT_PER_ACCOUNT: '3' } });

  it('counts a wrong current password as a sign-in attempt, and records the throttling once', async () => {
    const url = server.graphqlUrl;
    const user = await registerUser(url);
    // register counted against the `register` action; these three against `login`.
    for (let i = 0; i < 3; i++) {
      expect(await errorCodes(url, ChangePasswordDocument, { currentPassword: `wrong ${i} password`, newPassword: NEW_PASSWORD }, user.token)).toEqual(['INVALID_CREDENTIALS']);
    }
    const refused = await gql(url, LoginDocument, { input: { email: user.email, password: PASSWORD } });
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(await errorCodes(url, DeleteAccountDocument, { password: PASSWORD }, user.token)).toEqual(['RATE_LIMITED']);
    expect(await errorCodes(url, ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, user.token)).toEqual(['RATE_LIMITED']);

    const types = async (): Promise<string[]> =>
      (await ok(url, SecurityEventsDocument, {}, user.token)).securityEvents.events.map((e) => e.type);
    await expect.poll(types).toEqual(['SIGN_IN_THROTTLED', 'FAILED_SIGN_IN', 'SIGNED_IN']);
  });
});
