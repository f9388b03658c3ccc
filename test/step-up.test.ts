import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errorCodes, gql, loginUser, ok, PASSWORD, registerUser } from './support/client.js';
import { DeleteAccountDocument, LogoutAllDocument, RefreshDocument, RevokeSessionDocument, SessionsDocument } from './support/operations.js';
import { expectRestError, restClient } from './support/rest.js';
import { useTestServer } from './support/server.js';

/** Sensitive actions need a fresh sign-in when FRESH_AGE is set (issue 19 §3); the defaults change nothing for old clients. */

describe('FRESH_AGE: sensitive actions need the password or a recent sign-in', () => {
  const server = useTestServer({ env: { FRESH_AGE: '1' } });

  /** Waits until the session is no longer fresh: revoking an unknown id is refused for staleness before it is looked up. */
  const staleGql = (token: string): Promise<void> =>
    expect.poll(() => errorCodes(server.graphqlUrl, RevokeSessionDocument, { id: randomUUID() }, token), { timeout: 10_000, interval: 200 }).toEqual([
      'REAUTHENTICATION_REQUIRED',
    ]);

  it('GraphQL: a stale session gets REAUTHENTICATION_REQUIRED; with currentPassword, or after a refresh, the action succeeds', async () => {
    const url = server.graphqlUrl;
    const user = await registerUser(url);
    const other = await loginUser(url, { email: user.email, password: PASSWORD });
    // Fresh: no password needed.
    expect(await errorCodes(url, RevokeSessionDocument, { id: randomUUID() }, user.token)).toEqual(['NOT_FOUND']);
    await staleGql(user.token);

    // A field error, as INVALID_CREDENTIALS is: the code in extensions.code (REST answers 403).
    const refused = await gql(url, LogoutAllDocument, { exceptCurrent: true }, { token: user.token });
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['REAUTHENTICATION_REQUIRED']);
    expect(await errorCodes(url, RevokeSessionDocument, { id: other.session.id }, user.token)).toEqual(['REAUTHENTICATION_REQUIRED']);
    // A wrong password is refused as a sign-in's is (and counts toward the same limits).
    expect(await errorCodes(url, RevokeSessionDocument, { id: other.session.id, currentPassword: 'wrong password' }, user.token)).toEqual([
      'INVALID_CREDENTIALS',
    ]);
    expect(await ok(url, RevokeSessionDocument, { id: other.session.id, currentPassword: PASSWORD }, user.token)).toEqual({ revokeSession: true });

    const third = await loginUser(url, { email: user.email, password: PASSWORD });
    expect((await ok(url, LogoutAllDocument, { exceptCurrent: true, currentPassword: PASSWORD }, user.token)).logoutAll.revokedSessionIds).toEqual([
      third.session.id,
    ]);

    // A refresh is a fresh sign-in too.
    const refreshed = (await ok(url, RefreshDocument, { refreshToken: user.refreshToken })).refresh;
    const fourth = await loginUser(url, { email: user.email, password: PASSWORD });
    expect((await ok(url, LogoutAllDocument, { exceptCurrent: true }, refreshed.token)).logoutAll.revokedSessionIds).toEqual([fourth.session.id]);
    // deleteAccount always carries the password, under either name.
    await staleGql(refreshed.token);
    expect(await ok(url, DeleteAccountDocument, { password: PASSWORD }, refreshed.token)).toEqual({ deleteAccount: true });
  });

  it('REST: 403 REAUTHENTICATION_REQUIRED; currentPassword in the body (DELETE included) lets it through', async () => {
    const api = restClient(server);
    const user = await api.register();
    const other = await api.login({ email: user.email });
    await expect
      .poll(async () => (await api.delete(`/api/auth/sessions/${randomUUID()}`, { token: user.token })).status, { timeout: 10_000, interval: 200 })
      .toBe(403);
    expectRestError(await api.post('/api/auth/logout-all', { token: user.token, json: { exceptCurrent: true } }), 403, 'REAUTHENTICATION_REQUIRED');
    expectRestError(await api.delete(`/api/auth/sessions/${other.session.id}`, { token: user.token }), 403, 'REAUTHENTICATION_REQUIRED');
    expect((await api.delete(`/api/auth/sessions/${other.session.id}`, { token: user.token, json: { currentPassword: PASSWORD } })).status).toBe(200);
    const all = await api.post('/api/auth/logout-all', { token: user.token, json: { currentPassword: PASSWORD } });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ revokedSessionIds: [user.session.id] });

    const again = await api.register();
    expect((await api.delete('/api/auth/account', { token: again.token, json: { currentPassword: PASSWORD } })).status).toBe(204);
  });
});

describe('the defaults keep clients that never refresh working as before', () => {
  const server = useTestServer();

  it('a token lives 7 days, the session longer; logoutAll and revokeSession need no password', async () => {
    const url = server.graphqlUrl;
    const api = restClient(server);
    const user = await registerUser(url);
    const restUser = await api.login({ email: user.email });
    for (const auth of [user, restUser]) {
      const { iat, exp } = JSON.parse(Buffer.from(auth.token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
      expect(exp - iat).toBe(7 * 86400);
      // Neither deadline of the session comes before its token's end: the token works all its 7 days unless signed out.
      expect(Date.parse(auth.session.idleExpiresAt)).toBeGreaterThan(exp * 1000);
      expect(Date.parse(auth.session.expiresAt)).toBeGreaterThan(exp * 1000);
    }
    expect((await ok(url, SessionsDocument, {}, user.token)).sessions).toHaveLength(2);
    expect(await ok(url, RevokeSessionDocument, { id: restUser.session.id }, user.token)).toEqual({ revokeSession: true });
    expect((await api.post('/api/auth/logout-all', { token: user.token })).status).toBe(200);
  });
});
