import type { Models } from '../models/index.js';
import { activeFilter, type SessionRecord } from '../models/session.js';

/**
 * What MongoDB, the durable state, says is active.
 *
 * A revocation is durable once its record is written (before it is announced
 * or answered); each session's own `revokedAt` follows in the background
 * (src/revocation/marking.ts), and until it does, a session document alone
 * still looks active. So every read that decides "active" from MongoDB also
 * reads the user's unmarked records: never more than the revocations of the
 * last moments, one indexed query. Redis may lose its tombstones at any time
 * (a restart): nothing read here can bring a revoked session back.
 */

/** The sessions named by the user's recorded revocations whose marking is not done. */
export async function pendingRevoked(models: Pick<Models, 'Revocation'>, userId: string): Promise<Set<string>> {
  const records = await models.Revocation.find({ userId, marked: false }, { _id: 0, sessionIds: 1 }).lean();
  return new Set(records.flatMap((r) => r.sessionIds));
}

/** Is this session named by an unmarked record of its user? */
export async function isPendingRevoked(models: Pick<Models, 'Revocation'>, userId: string, sessionId: string): Promise<boolean> {
  return (await models.Revocation.exists({ userId, marked: false, sessionIds: sessionId })) !== null;
}

/** The user's active sessions (not expired, not revoked, durably), with the given fields, newest first. */
export async function activeSessionRecords<K extends keyof SessionRecord>(
  models: Pick<Models, 'Session' | 'Revocation'>,
  userId: string,
  fields: Readonly<Record<K, 1>>,
): Promise<Array<Pick<SessionRecord, K | 'sessionId'>>> {
  const [records, pending] = await Promise.all([
    models.Session.find({ userId, ...activeFilter() }, { ...fields, sessionId: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .lean<Array<Pick<SessionRecord, K | 'sessionId'>>>(),
    pendingRevoked(models, userId),
  ]);
  return records.filter((s) => !pending.has(s.sessionId));
}

/** Is this one of the user's active sessions, durably? */
export async function isActiveSession(models: Pick<Models, 'Session' | 'Revocation'>, userId: string, sessionId: string): Promise<boolean> {
  const [exists, pending] = await Promise.all([
    models.Session.exists({ sessionId, userId, ...activeFilter() }),
    isPendingRevoked(models, userId, sessionId),
  ]);
  return exists !== null && !pending;
}
