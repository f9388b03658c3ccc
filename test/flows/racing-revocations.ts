import { expect, it } from 'vitest';
import { gql, loginUser, PASSWORD, registerUser, revocations, sseClient, type AuthPayload } from '../support/client.js';
import { readToEnd } from '../support/events.js';
import { LogoutAllDocument, LogoutDocument, RevokeSessionDocument } from '../support/operations.js';
import { type RedisChoice, type ServerFixture, useTestServer } from '../support/server.js';
import { openRestEvents, restEvents, type Seen } from '../support/sse.js';

/**
 * Revocations racing on two instances: each session counted, stored and
 * announced once, in the same order on every stream. On a Redis server, or a
 * cluster with `on`. Registers its servers and tests in the calling describe block.
 */
export function racingRevocationFlows(on: RedisChoice = {}): void {
  const one = useTestServer({ env: { SERVER_ID: 'one' }, ...on });
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
}
