import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useOwnRedisClient } from '../../test/support/redis-server.js';
import { ExpiringMap } from '../expiring-map.js';
import { createMemorySessionCache, createRedisSessionCache, type SessionCache } from '../auth/session-cache.js';
import { createMemoryLedger, createRedisLedger, type ClaimRequest, type RevocationLedger } from './ledger.js';

const redis = useOwnRedisClient();
const TTL = 60_000;

// One contract, checked against the Lua scripts and their in-memory twin (the development default).
describe.each([
  ['Redis', (): [RevocationLedger, SessionCache] => [createRedisLedger(redis(), { tombstoneTtlMs: TTL }), createRedisSessionCache(redis())]],
  [
    'memory',
    (): [RevocationLedger, SessionCache] => {
      const states = new ExpiringMap<string>();
      return [createMemoryLedger(states, { tombstoneTtlMs: TTL }), createMemorySessionCache(Date.now, states)];
    },
  ],
] as const)('%s revocation ledger', (_name, make) => {
  const userId = (): string => randomUUID().replace(/-/g, '').slice(0, 24);
  const request = (uid: string, sessionIds: string[], dueAt = Date.now() + TTL): ClaimRequest => ({
    userId: uid,
    sessionIds,
    reason: 'LOGOUT_ALL',
    revokedAt: new Date().toISOString(),
    dueAt,
  });

  it('claims each session exactly once, however the calls overlap, and tombstones what it claims', async () => {
    const [ledger, cache] = make();
    const uid = userId();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const claims = await Promise.all([ledger.claim(request(uid, [a, b])), ledger.claim(request(uid, [b, c])), ledger.claim(request(uid, [a, c]))]);
    const claimed = claims.flatMap((claim) => claim?.sessionIds ?? []);
    expect(claimed.sort()).toEqual([a, b, c].sort());
    expect(await ledger.claim(request(uid, [a, b, c]))).toBeNull();
    expect(await ledger.revokedAmong(uid, [a, b, c, randomUUID()])).toEqual(new Set([a, b, c]));
    expect((await cache.lookup(uid, a)).entry).toEqual({ state: 'revoked' });
  });

  it('numbers the calls of one user in increasing order, above the current number', async () => {
    const [ledger] = make();
    const uid = userId();
    const base = await ledger.currentSeq(uid);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i += 1) seqs.push((await ledger.claim(request(uid, [randomUUID()])))!.seq);
    expect(seqs).toEqual([base + 1, base + 2, base + 3, base + 4, base + 5]);
    expect(await ledger.currentSeq(uid)).toBe(base + 5);
    // Another user counts on its own.
    const other = userId();
    expect(await ledger.currentSeq(other)).toBeGreaterThan(0);
  });

  it('keeps a claim in flight until it is settled, and gives it to one sweeper at a time once due', async () => {
    const [ledger] = make();
    const uid = userId();
    const sid = randomUUID();
    const claim = (await ledger.claim(request(uid, [sid], Date.now() + TTL)))!;
    expect(await ledger.inFlight(uid)).toMatchObject([{ seq: claim.seq, sessionIds: [sid], reason: 'LOGOUT_ALL' }]);
    const now = Date.now();
    expect(await ledger.takeDue(now, 1000, 10)).toEqual([]);
    await ledger.dueNow(claim);
    const first = await ledger.takeDue(Date.now(), 10_000, 10);
    expect(first.map((c) => c.claimId)).toContain(claim.claimId);
    // Leased: a second sweeper gets nothing until the lease lapses.
    expect((await ledger.takeDue(Date.now(), 10_000, 10)).map((c) => c.claimId)).not.toContain(claim.claimId);
    expect((await ledger.takeDue(Date.now() + 20_000, 10_000, 10)).map((c) => c.claimId)).toContain(claim.claimId);
    await ledger.settle(claim);
    expect(await ledger.inFlight(uid)).toEqual([]);
    expect((await ledger.takeDue(Date.now() + 60_000, 10_000, 10)).map((c) => c.claimId)).not.toContain(claim.claimId);
  });

  it('undoes a claim it could not record: no tombstone, nothing in flight, and the sessions can be claimed again', async () => {
    const [ledger, cache] = make();
    const uid = userId();
    const sid = randomUUID();
    const claim = (await ledger.claim(request(uid, [sid])))!;
    await ledger.unclaim(claim);
    expect((await cache.lookup(uid, sid)).entry).toBeNull();
    expect(await ledger.inFlight(uid)).toEqual([]);
    const again = await ledger.claim(request(uid, [sid]));
    expect(again?.sessionIds).toEqual([sid]);
    expect(again!.seq).toBeGreaterThan(claim.seq);
  });

  it('leases a marking to one holder, renewed by it only, free again once released', async () => {
    const [ledger] = make();
    const uid = userId();
    const lease = await ledger.leaseMarking(uid, 7, 10_000);
    expect(lease).not.toBeNull();
    expect(await ledger.leaseMarking(uid, 7, 10_000)).toBeNull();
    expect(await ledger.leaseMarking(uid, 8, 10_000)).not.toBeNull();
    expect(await lease!.renew()).toBe(true);
    await lease!.release();
    const next = await ledger.leaseMarking(uid, 7, 10_000);
    expect(next).not.toBeNull();
    // The first holder's lease is gone: it can neither renew nor release the new holder's.
    expect(await lease!.renew()).toBe(false);
    await lease!.release();
    expect(await ledger.leaseMarking(uid, 7, 10_000)).toBeNull();
  });
});

describe('Redis revocation ledger, a script resent after its connection dropped', () => {
  it('answers the resent claim with what the first run claimed: one claim, in flight, numbered once', async () => {
    // What ioredis does when a connection drops after Redis ran a script but before its reply
    // came (on a cluster it resends it, to follow a failover): the script runs twice.
    const twice = new Proxy(redis(), {
      get(target, property, receiver) {
        if (property === 'eval') return async (...args: Parameters<typeof target.eval>) => (await target.eval(...args), target.eval(...args));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const ledger = createRedisLedger(twice, { tombstoneTtlMs: TTL });
    const uid = randomUUID().replace(/-/g, '').slice(0, 24);
    const [a, b] = [randomUUID(), randomUUID()];
    const base = await ledger.currentSeq(uid);
    const claim = await ledger.claim({ userId: uid, sessionIds: [a, b], reason: 'LOGOUT_ALL', revokedAt: new Date().toISOString(), dueAt: Date.now() + TTL });
    expect(claim).toMatchObject({ seq: base + 1, sessionIds: [a, b] });
    expect(await ledger.inFlight(uid)).toEqual([claim]);
    expect(await ledger.currentSeq(uid)).toBe(base + 1);
  });
});
