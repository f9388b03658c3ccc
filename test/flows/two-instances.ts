import { expect, it } from 'vitest';
import { errorCodes, gql, loginUser, ok, PASSWORD, registerUser, sseClient, revocations } from '../support/client.js';
import { readToEnd, take, waitForSubscribers } from '../support/events.js';
import { LogoutAllDocument, LogoutDocument, MeDocument } from '../support/operations.js';
import { useTestServer, type RedisChoice } from '../support/server.js';

/**
 * Two instances sharing MongoDB and Redis (a server, or a cluster with `on`):
 * a revocation on one reaches the streams on the other, in order, and racing
 * calls announce each revocation once. Registers its servers and tests in the
 * calling describe block.
 */
export function twoInstanceFlows(on: RedisChoice = {}): void {
  const one = useTestServer({ env: { SERVER_ID: 'one' }, ...on });
  const two = useTestServer({ env: { SERVER_ID: 'two' }, shareWith: one });

  it('delivers a revocation made on one instance to streams on the other, in order', async () => {
    const user = await registerUser(one.graphqlUrl);
    const phone = await loginUser(two.graphqlUrl, { email: user.email, password: PASSWORD, deviceInfo: 'phone' });
    const tablet = await loginUser(one.graphqlUrl, { email: user.email, password: PASSWORD, deviceInfo: 'tablet' });

    // A watcher on instance two that is not revoked until last.
    const watcher = sseClient(two.graphqlUrl, user.token);
    const iterator = revocations(watcher);
    const firstTwo = take(iterator, 2);
    await waitForSubscribers(two.services, user.user.id, 1);

    expect(await ok(one.graphqlUrl, LogoutDocument, {}, tablet.token)).toEqual({ logout: true });
    expect(await ok(two.graphqlUrl, LogoutDocument, {}, phone.token)).toEqual({ logout: true });
    expect((await firstTwo).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: tablet.session.id, reason: 'LOGOUT', current: false }),
      expect.objectContaining({ sessionId: phone.session.id, reason: 'LOGOUT', current: false }),
    ]);

    // The revocation holds on the other instance as soon as the mutation returned.
    expect(await errorCodes(one.graphqlUrl, MeDocument, {}, phone.token)).toEqual(['UNAUTHENTICATED']);
    expect(await errorCodes(two.graphqlUrl, MeDocument, {}, tablet.token)).toEqual(['UNAUTHENTICATED']);

    const rest = readToEnd({ [Symbol.asyncIterator]: () => iterator });
    expect((await ok(one.graphqlUrl, LogoutAllDocument, {}, user.token)).logoutAll.revokedSessionIds).toEqual([user.session.id]);
    expect((await rest).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: user.session.id, reason: 'LOGOUT_ALL', current: true }),
    ]);
    watcher.dispose();
    expect(await errorCodes(two.graphqlUrl, MeDocument, {}, user.token)).toEqual(['UNAUTHENTICATED']);
  });

  it('announces each revocation once when logout and logoutAll race', async () => {
    const user = await registerUser(one.graphqlUrl);
    const devices = await Promise.all(
      [1, 2, 3, 4].map((n) => loginUser(two.graphqlUrl, { email: user.email, password: PASSWORD, deviceInfo: `d${n}` })),
    );
    const watcher = sseClient(one.graphqlUrl, user.token);
    const events = readToEnd(revocations(watcher));
    await waitForSubscribers(one.services, user.user.id, 1);

    // Each call either succeeds or finds its own session already revoked (UNAUTHENTICATED),
    // never anything else; and the two logoutAll calls never both count the same session.
    const refusedOrDone = (result: { errors?: ReadonlyArray<{ extensions?: { code?: unknown } }> }): void => {
      if (result.errors) expect(result.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    };
    const [racingAll, ...logouts] = await Promise.all([
      gql(two.graphqlUrl, LogoutAllDocument, { exceptCurrent: false }, { token: devices[0]!.token }),
      ...devices.map((d, i) => gql(i % 2 ? one.graphqlUrl : two.graphqlUrl, LogoutDocument, {}, { token: d.token })),
    ]);
    for (const result of [racingAll!, ...logouts]) refusedOrDone(result);
    for (const result of logouts) if (!result.errors) expect(result.data?.logout).toBe(true);
    // logoutAll may have run before or after the logouts: the watcher's own session ends the stream.
    const last = await gql(one.graphqlUrl, LogoutAllDocument, {}, { token: user.token });
    refusedOrDone(last);
    const countedTwice = (racingAll!.data?.logoutAll.revokedSessionIds ?? []).filter((id) =>
      (last.data?.logoutAll.revokedSessionIds ?? []).includes(id),
    );
    expect(countedTwice).toEqual([]);
    const seen = (await events).map((e) => e.data?.sessionRevoked?.sessionId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe(user.session.id);
    expect(seen.sort()).toEqual([user.session.id, ...devices.map((d) => d.session.id)].sort());
    watcher.dispose();
  });
}
