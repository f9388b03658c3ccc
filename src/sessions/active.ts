import type { Services } from '../services.js';
import { notFound } from '../errors.js';
import { activeSessionRecords, isActiveSession } from '../revocation/durable.js';
import { fromRecord, SESSION_FIELDS, viewOf, type SessionView } from './session.js';

/**
 * A user's active sessions, newest first, `current` for the given one: from Redis when the list is
 * there (src/sessions/session-list.ts), else from MongoDB (durably: a session named
 * by a revocation whose marking is not done is left out), then cached with
 * each session's state, never over a tombstone nor into a Redis that lost its
 * data since the read began (the user's epoch, src/auth/session-cache.ts).
 */
export async function activeSessions(services: Services, userId: string, currentSessionId: string | null): Promise<SessionView[]> {
  const { models, cache, ledger, sessionList, log } = services;
  const warn = (error: unknown): void => log.warn({ err: (error as Error).message }, 'session list cache unavailable');
  const cached = await sessionList.read(userId).catch((error: unknown) => {
    warn(error);
    return null;
  });
  if (cached) return cached.map((s) => viewOf(s, currentSessionId));

  const epoch = await cache.epoch(userId).catch(() => null);
  const now = Date.now();
  const records = await activeSessionRecords(models, userId, SESSION_FIELDS);
  const revoked = await ledger.revokedAmong(userId, records.map((s) => s.sessionId)).catch(() => new Set<string>());
  const sessions = records.filter((s) => !revoked.has(s.sessionId)).map((s) => viewOf(fromRecord(s), currentSessionId));
  if (epoch !== null) {
    await Promise.all([
      ...sessions.map((s) => cache.fill(userId, s.id, { state: 'active', userId }, s.expiresAt.getTime() - now, epoch)),
      sessionList.fill(userId, sessions, epoch),
    ]).catch(warn);
  }
  return sessions;
}

/**
 * Proves that `sessionId` is an active session of `userId`, else NOT_FOUND
 * (`notFoundMessage`), before anything acts on it (revokeSessions writes cache
 * tombstones before MongoDB, and must never be handed another user's session
 * id). The user's whole Redis list (there after the device list was shown)
 * proves it without MongoDB, where on FerretDB a lookup by session id scans
 * the whole collection; anything it does not hold is asked of MongoDB, the
 * authority. Returns the session's name when the list held it (a revoked
 * session leaves the list: read it before revoking).
 */
export async function requireOwnSession(services: Services, userId: string, sessionId: string, notFoundMessage: string): Promise<{ listedName: string | null }> {
  const listed = (await services.sessionList.read(userId).catch(() => null))?.find((s) => s.id === sessionId);
  if (!listed && !(await isActiveSession(services.models, userId, sessionId))) throw notFound(notFoundMessage);
  return { listedName: listed?.deviceInfo ?? null };
}
