import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { PURGE_BATCH } from '../src/models/purge.js';
import { ok, registerUser } from './support/client.js';
import { LogoutDocument, SessionsDocument } from './support/operations.js';
import { useTestServer } from './support/server.js';

const DAY = 86_400_000;

describe('purging old sessions', () => {
  // A retention of one day, and a purge every second: the server's own timer does the work.
  const server = useTestServer({ env: { SESSION_RETENTION: '1d', SESSION_PURGE_INTERVAL: '1s' } });

  it('deletes sessions expired or revoked longer ago than the retention, in batches, and keeps the rest', async () => {
    const { Session } = server.services.models;
    const user = await registerUser(server.graphqlUrl);
    const leaving = await registerUser(server.graphqlUrl);
    await ok(server.graphqlUrl, LogoutDocument, {}, leaving.token);

    const now = Date.now();
    const old = (n: number, kind: 'expired' | 'revoked') => ({
      sessionId: new Types.UUID().toString(),
      userId: new Types.ObjectId(user.user.id),
      deviceInfo: `old ${kind} ${n}`,
      ipAddress: '127.0.0.1',
      userAgent: '',
      lastActivity: new Date(now - 40 * DAY),
      createdAt: new Date(now - 40 * DAY),
      expiresAt: new Date(kind === 'expired' ? now - 2 * DAY : now + DAY),
      revokedAt: kind === 'revoked' ? new Date(now - 2 * DAY) : null,
      revokedReason: kind === 'revoked' ? 'LOGOUT' : null,
      revokedSeq: kind === 'revoked' ? n : null,
    });
    // More than one batch of each kind.
    const count = PURGE_BATCH + 100;
    await Session.insertMany([...Array.from({ length: count }, (_, n) => old(n, 'expired')), ...Array.from({ length: count }, (_, n) => old(n, 'revoked'))]);

    await expect.poll(() => Session.countDocuments({ userId: user.user.id }), { timeout: 20_000, interval: 200 }).toBe(1);
    // Kept: the active session, and the session revoked just now (within the retention).
    expect((await ok(server.graphqlUrl, SessionsDocument, {}, user.token)).sessions.map((s) => s.id)).toEqual([user.session.id]);
    expect(await Session.findOne({ sessionId: leaving.session.id }).lean()).toMatchObject({ revokedReason: 'LOGOUT' });
  });
});
