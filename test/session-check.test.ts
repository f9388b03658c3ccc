import type { CommandStartedEvent } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../src/auth/authenticate.js';
import { errorCodes, loginUser, ok, PASSWORD, registerUser } from './support/client.js';
import { MeDocument, RevokeSessionDocument, SessionsDocument } from './support/operations.js';
import { useTestServer } from './support/server.js';

describe('the per-request session check', () => {
  // A private Redis: this test flushes it.
  const server = useTestServer({ ownRedis: true, monitorCommands: true });
  const commands: string[] = [];

  beforeAll(() => {
    server.services.connection.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      commands.push(event.commandName);
    });
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

  it('issues no MongoDB command when the cache is warm, two parallel reads (session, account) when it is cold', async () => {
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
    // The session and its account are read side by side (a deleted account's tokens are
    // revoked); the empty cache also forgot the activity throttle, so the
    // (asynchronous, once-a-minute) lastActivity write follows.
    await expect.poll(() => [...commands].sort()).toEqual(['find', 'find', 'update']);
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
});
