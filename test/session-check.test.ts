import { beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../src/auth/authenticate.js';
import { errorCodes, loginUser, ok, PASSWORD, registerUser } from './support/client.js';
import { LogoutDocument, MeDocument, RevokeSessionDocument, SecurityEventsDocument, SessionsDocument } from './support/operations.js';
import { recordCommands, useTestServer } from './support/server.js';

describe('the per-request session check', () => {
  // A private Redis: this test flushes it.
  const server = useTestServer({ ownRedis: true, monitorCommands: true });
  let commands: string[] = [];

  beforeAll(() => {
    commands = recordCommands(server);
  });

  /** The MongoDB commands issued while `fn` runs. */
  async function mongoCommandsDuring(fn: () => Promise<unknown>): Promise<string[]> {
    commands.length = 0;
    await fn();
    return [...commands];
  }

  /** A request that authenticates (in the context) and reads nothing else. */
  async function typenameRequest(token: string): Promise<void> {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
  }

  it('issues no MongoDB command when the cache is warm, three reads when it is cold', async () => {
    const user = await registerUser(server.graphqlUrl);
    expect(await mongoCommandsDuring(() => typenameRequest(user.token))).toEqual([]);
    expect(await mongoCommandsDuring(() => authenticate(server.services, user.token))).toEqual([]);
    expect((await authenticate(server.services, user.token)).viewer?.sessionId).toBe(user.session.id);

    await server.redis.stop();
    await server.redis.start(); // an empty cache, as after a restart of Redis
    await server.services.redis?.ping().catch(() => undefined);
    await expect.poll(() => server.services.redis?.status).toBe('ready');
    commands.length = 0;
    await typenameRequest(user.token);
    // Three reads side by side decide (the session, the user's revocations not yet marked on their
    // sessions, and that its account still exists); the empty cache also forgot the activity
    // throttle, so the (asynchronous, once-a-minute) lastActivity write follows.
    await expect.poll(() => [...commands].sort()).toEqual(['find', 'find', 'find', 'update']);
    // ...and the answer is cached again.
    expect(await mongoCommandsDuring(() => typenameRequest(user.token))).toEqual([]);
    // That write moves lastActivity forward. The poll above saw it start, not finish: wait for it to land.
    await expect
      .poll(async () => {
        const { sessions } = await ok(server.graphqlUrl, SessionsDocument, {}, user.token);
        return Date.parse(sessions[0]!.lastActivity) - Date.parse(sessions[0]!.createdAt);
      })
      .toBeGreaterThan(0);
  });

  it('after FLUSHALL keeps active sessions signed in and revoked ones out', async () => {
    const url = server.graphqlUrl;
    const user = await registerUser(url);
    const revoked = await loginUser(url, { email: user.email, password: PASSWORD });
    expect(await ok(url, RevokeSessionDocument, { id: revoked.session.id }, user.token)).toEqual({ revokeSession: true });

    await server.services.redis?.flushall();

    expect(await errorCodes(url, MeDocument, {}, revoked.token)).toEqual(['UNAUTHENTICATED']);
    expect((await ok(url, MeDocument, {}, user.token)).me.id).toBe(user.user.id);
    const { sessions } = await ok(url, SessionsDocument, {}, user.token);
    expect(sessions.map((s) => s.id)).toEqual([user.session.id]);
    // The refill remembered the revocation: no MongoDB read the second time.
    expect(await mongoCommandsDuring(() => authenticate(server.services, revoked.token))).toEqual([]);
    expect((await authenticate(server.services, revoked.token)).viewer).toBeNull();
  });

  /** `GET /api/auth/me` with a Bearer token: the status and the user. */
  async function restMe(token: string): Promise<{ status: number; user?: unknown }> {
    const response = await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { user?: unknown };
    return { status: response.status, user: body.user };
  }

  it('answers a warm `me` from Redis alone on both APIs, the same user MongoDB holds', async () => {
    const user = await registerUser(server.graphqlUrl);
    let graphqlMe: unknown;
    let rest: { status: number; user?: unknown } = { status: 0 };
    expect(
      await mongoCommandsDuring(async () => {
        graphqlMe = (await ok(server.graphqlUrl, MeDocument, {}, user.token)).me;
        rest = await restMe(user.token);
      }),
    ).toEqual([]);
    expect(graphqlMe).toEqual(user.user);
    expect(rest).toEqual({ status: 200, user: user.user });

    // After FLUSHALL the first `me` reads MongoDB (session, unmarked revocations, account) and refills; the next is warm again.
    await server.services.redis?.flushall();
    const cold = await mongoCommandsDuring(() => ok(server.graphqlUrl, MeDocument, {}, user.token));
    expect(cold.filter((c) => c === 'find')).toHaveLength(3);
    expect(await mongoCommandsDuring(() => restMe(user.token))).toEqual([]);
    expect((await ok(server.graphqlUrl, MeDocument, {}, user.token)).me).toEqual(user.user);
  });

  it('refuses the tokens of an account that no longer exists, cached or not', async () => {
    const url = server.graphqlUrl;
    const { models, cache } = server.services;
    // Its profile is cleared (what deleting an account does): the next request asks MongoDB.
    const gone = await registerUser(url);
    expect((await restMe(gone.token)).status).toBe(200);
    await models.User.deleteOne({ _id: gone.user.id });
    await cache.clearUser(gone.user.id);
    expect(await errorCodes(url, MeDocument, {}, gone.token)).toEqual(['UNAUTHENTICATED']);
    expect((await restMe(gone.token)).status).toBe(401);
    // ...and the refusal is cached: no more MongoDB reads for that token.
    expect(await mongoCommandsDuring(() => restMe(gone.token))).toEqual([]);

    // A cold cache (FLUSHALL) with the session still active in MongoDB: the account check refuses it.
    const orphan = await registerUser(url);
    await models.User.deleteOne({ _id: orphan.user.id });
    await server.services.redis?.flushall();
    expect((await restMe(orphan.token)).status).toBe(401);
    expect(await errorCodes(url, MeDocument, {}, orphan.token)).toEqual(['UNAUTHENTICATED']);
  });

  it('lists sessions from Redis when warm, in step with every sign-in and revocation', async () => {
    const url = server.graphqlUrl;
    const user = await registerUser(url);
    const restList = async (token: string): Promise<string[]> => {
      const response = await fetch(`${server.url}/api/auth/sessions`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return ((await response.json()) as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id);
    };
    const graphqlList = async (token: string): Promise<string[]> => (await ok(url, SessionsDocument, {}, token)).sessions.map((s) => s.id);

    expect(await restList(user.token)).toEqual([user.session.id]); // the first list fills the cache
    const phone = await loginUser(url, { email: user.email, password: PASSWORD });
    let lists: string[][] = [];
    expect(await mongoCommandsDuring(async () => (lists = [await restList(user.token), await graphqlList(user.token)]))).toEqual([]);
    expect(lists).toEqual([[phone.session.id, user.session.id], [phone.session.id, user.session.id]]);

    // Revoking a listed device reads nothing from MongoDB either: the whole list proves the session
    // is the user's, and names the acting device. Writes only (the revocation's record, the timeline
    // entry, maybe the background marking).
    let revoked: unknown;
    const issued = await mongoCommandsDuring(async () => (revoked = await ok(url, RevokeSessionDocument, { id: phone.session.id }, user.token)));
    expect(revoked).toEqual({ revokeSession: true });
    expect(issued.filter((name) => name !== 'insert' && name !== 'update')).toEqual([]);
    // (The background marking's writes are done before the next window opens.)
    await server.services.revocations.idle();
    // The revocation shows on the very next list, still without MongoDB.
    expect(await mongoCommandsDuring(async () => (lists = [await restList(user.token), await graphqlList(user.token)]))).toEqual([]);
    expect(lists).toEqual([[user.session.id], [user.session.id]]);

    // After FLUSHALL MongoDB answers once, and the revoked session stays out.
    await server.services.redis?.flushall();
    expect(await graphqlList(user.token)).toEqual([user.session.id]);
    expect(await mongoCommandsDuring(() => restList(user.token))).toEqual([]);
  });

  it('names the device that signed out from the Redis list, without a MongoDB read', async () => {
    const url = server.graphqlUrl;
    const laptop = await registerUser(url, { deviceInfo: 'laptop' });
    const phone = await loginUser(url, { email: laptop.email, password: PASSWORD, deviceInfo: 'phone' });
    // Writes only: the revocation's record, the event, and maybe the background marking.
    const issued = await mongoCommandsDuring(() => ok(url, LogoutDocument, {}, phone.token));
    expect(issued.filter((name) => name !== 'insert' && name !== 'update')).toEqual([]);
    const { events } = (await ok(url, SecurityEventsDocument, { first: 10 }, laptop.token)).securityEvents;
    expect(events.filter((e) => e.type === 'SIGNED_OUT').map((e) => [e.deviceInfo, e.sessionId])).toEqual([['phone', phone.session.id]]);
  });
});
