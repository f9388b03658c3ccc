import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { badTokens } from './support/bad-tokens.js';
import { errorCodes, gql, loginUser, ok, PASSWORD, registerUser, sseClient, uniqueEmail, revocations } from './support/client.js';
import { readToEnd } from './support/events.js';
import {
  LoginDocument,
  LogoutDocument,
  MeDocument,
  RegisterDocument,
  RevokeSessionDocument,
  SessionsDocument,
} from './support/operations.js';
import { useTestServer } from './support/server.js';

describe('every contract error code reachable through GraphQL', () => {
  const server = useTestServer();
  let url: string;

  beforeAll(() => {
    url = server.graphqlUrl;
  });

  it('BAD_USER_INPUT for each input rule, naming the field', async () => {
    const input = { name: 'Ada', email: uniqueEmail(), password: PASSWORD };
    const cases = [
      [{ ...input, email: 'not-an-email' }, 'email'],
      [{ ...input, email: `${'a'.repeat(250)}@example.com` }, 'email'],
      [{ ...input, name: '   ' }, 'name'],
      [{ ...input, name: 'n'.repeat(101) }, 'name'],
      [{ ...input, password: 'short' }, 'password'],
      [{ ...input, password: 'p'.repeat(129) }, 'password'],
      [{ ...input, deviceInfo: 'd'.repeat(201) }, 'deviceInfo'],
    ] as const;
    for (const [bad, field] of cases) {
      const result = await gql(url, RegisterDocument, { input: bad });
      expect(result.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
    }
    const owner = await registerUser(url);
    expect(await errorCodes(url, RevokeSessionDocument, { id: 'not-a-session-id' }, owner.token)).toEqual(['BAD_USER_INPUT']);
  });

  it('UNAUTHENTICATED without a token, with a bad one, an expired one, or one naming no session', async () => {
    const user = await registerUser(url);
    const tokens = [undefined, ...badTokens(user).map(([, token]) => token)];
    for (const token of tokens) {
      expect(await errorCodes(url, MeDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, SessionsDocument, {}, token)).toEqual(['UNAUTHENTICATED']);
    }
    expect((await ok(url, MeDocument, {}, user.token)).me.id).toBe(user.user.id);
  });

  it('INVALID_CREDENTIALS with one message for a wrong password and an unknown email', async () => {
    const user = await registerUser(url);
    const wrongPassword = await gql(url, LoginDocument, { input: { email: user.email, password: 'not the password' } });
    const unknownEmail = await gql(url, LoginDocument, { input: { email: uniqueEmail('nobody'), password: PASSWORD } });
    expect(wrongPassword.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_CREDENTIALS']);
    expect(unknownEmail.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_CREDENTIALS']);
    expect(wrongPassword.errors?.[0]?.message).toBe(unknownEmail.errors?.[0]?.message);
  });

  it('NOT_FOUND for another user\'s session id, which stays active', async () => {
    const alice = await registerUser(url);
    const bob = await registerUser(url);
    expect(await errorCodes(url, RevokeSessionDocument, { id: bob.session.id }, alice.token)).toEqual(['NOT_FOUND']);
    expect(await errorCodes(url, RevokeSessionDocument, { id: randomUUID() }, alice.token)).toEqual(['NOT_FOUND']);
    expect((await ok(url, MeDocument, {}, bob.token)).me.id).toBe(bob.user.id);
  });

  it('EMAIL_TAKEN for an address in use, whatever its case and spaces', async () => {
    const user = await registerUser(url);
    const again = await gql(url, RegisterDocument, {
      input: { name: 'Someone', email: ` ${user.email.toUpperCase()} `, password: PASSWORD },
    });
    expect(again.errors?.map((e) => e.extensions?.code)).toEqual(['EMAIL_TAKEN']);
    expect(user.user.email).toBe(user.email.toLowerCase());
  });
});

describe('SERVICE_UNAVAILABLE when Redis is unreachable', () => {
  const server = useTestServer({ ownRedis: true });

  it('refuses to revoke (nothing half-done), still authenticates from MongoDB, and recovers', async () => {
    const url = server.graphqlUrl;
    const user = await registerUser(url);
    const other = await loginUser(url, { email: user.email, password: PASSWORD });
    await server.redis.stop();

    expect(await errorCodes(url, LogoutDocument, {}, other.token)).toEqual(['SERVICE_UNAVAILABLE']);
    const refused = await readToEnd(revocations(sseClient(url, user.token)));
    expect(refused.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    // MongoDB is the record: the failed logout changed nothing, and both tokens still work.
    expect((await ok(url, SessionsDocument, {}, user.token)).sessions).toHaveLength(2);

    await server.redis.start();
    await expect.poll(async () => (await gql(url, LogoutDocument, {}, { token: other.token })).data?.logout, { timeout: 10_000 }).toBe(true);
    expect(await errorCodes(url, MeDocument, {}, other.token)).toEqual(['UNAUTHENTICATED']);
  });
});
