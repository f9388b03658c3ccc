import { hashRefreshToken, nextRefreshToken, refreshKey, sessionOfRefreshToken } from '../auth/refresh-token.js';
import { signToken } from '../auth/token.js';
import { PUBLIC_USER_FIELDS, toUserView, type RequestInfo } from '../auth/viewer.js';
import { badInput, unauthenticated } from '../errors.js';
import { isDuplicateKey } from '../models/errors.js';
import type { SessionRecord } from '../models/session.js';
import type { SpentRefreshTokenRecord } from '../models/spent-refresh-token.js';
import type { AuthPayload } from '../resolvers/auth.js';
import { isPendingRevoked } from '../revocation/durable.js';
import type { Services } from '../services.js';
import { recordSecurityEvent } from '../timeline/record.js';
import { deadlineOf } from './expiry.js';
import { fromRecord, SESSION_FIELDS, viewOf } from './session.js';
import { accessTokenEnd } from './sign-in.js';

/**
 * `refresh` (GraphQL) and `POST /api/auth/refresh`: spends a refresh token for
 * a new access token and the next refresh token of the same session, and
 * counts as a use of the session (its idle deadline slides).
 *
 * Spending is one insert whose `_id` is the token's hash
 * (src/models/spent-refresh-token.ts): of any number of requests racing with
 * the same token, on any instances, exactly one inserts it. The others, and
 * anyone presenting it later, find it spent:
 * - within REFRESH_REUSE_GRACE of the spend (concurrent tabs), they get the
 *   same next refresh token (derived from the spent one, src/auth/refresh-token.ts)
 *   and an access token of the same session with the same end;
 * - after it, someone else holds the token: the session is revoked with
 *   TOKEN_REUSE, announced to every device of the user, and recorded.
 * A spent, unknown or expired token is UNAUTHENTICATED; failures count toward
 * the sign-in limits of the address, as wrong passwords do.
 */
export async function refreshSession(services: Services, raw: unknown, request: RequestInfo): Promise<AuthPayload> {
  if (typeof raw !== 'string' || raw.length === 0) throw badInput('refreshToken', 'refreshToken is required');
  const sessionId = raw.length <= 200 ? sessionOfRefreshToken(raw) : null;
  // Per session and address: one stolen token tried from many addresses slows down like an account does.
  const attempt = { email: `refresh:${sessionId ?? 'malformed'}`, ip: request.ipAddress };
  await services.signInLimiter.checkSignIn(attempt);
  const refused = async (): Promise<never> => {
    await services.signInLimiter.recordFailure(attempt);
    throw unauthenticated();
  };
  if (sessionId === null) return refused();
  const { models } = services;
  const hash = hashRefreshToken(raw);
  const spent = await models.SpentRefreshToken.findById(hash).lean();
  if (spent) return (await spentAgain(services, raw, spent, request)) ?? refused();
  const session = await models.Session.findOne({ sessionId }, { ...SESSION_FIELDS, userId: 1, revokedAt: 1, refreshHash: 1 }).select('+refreshHash').lean();
  if (session && session.refreshHash !== hash) {
    // Spent by a racing request between the two reads above (it has moved the session on): its answer.
    const racing = await models.SpentRefreshToken.findById(hash).lean();
    return (racing && (await spentAgain(services, raw, racing, request))) ?? refused();
  }
  if (!session || !(await isLive(services, session))) return refused();
  const userId = session.userId.toHexString();
  const spentAt = new Date();
  try {
    await models.SpentRefreshToken.create({ _id: hash, userId, sessionId, spentAt, expiresAt: session.expiresAt });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    // Another request spent it a moment ago: the same answer as its (or a revocation).
    const winner = await models.SpentRefreshToken.findById(hash).lean();
    return (winner && (await spentAgain(services, raw, winner, request))) ?? refused();
  }
  const next = nextRefreshToken(refreshKey(services.config.jwtSecret), raw, sessionId);
  const idleExpiresAt = new Date(spentAt.getTime() + services.config.sessionIdleTimeoutMs);
  await models.Session.updateOne(
    { sessionId, revokedAt: null },
    { $set: { refreshHash: hashRefreshToken(next), freshAt: spentAt, lastActivity: spentAt, idleExpiresAt } },
  );
  const failed = (error: unknown): void => services.log.warn({ err: (error as Error).message }, 'refresh: cache write failed');
  await Promise.all([
    services.deadlines.slide(userId, sessionId, spentAt.getTime(), services.config.sessionIdleTimeoutMs).catch(failed),
    services.sessionList.touch(userId, sessionId, spentAt, idleExpiresAt).catch(failed),
  ]);
  await services.signInLimiter.recordSuccess(attempt);
  return pair(services, { ...session, lastActivity: spentAt, idleExpiresAt }, spentAt, next);
}

type RefreshedSession = Pick<SessionRecord, keyof typeof SESSION_FIELDS | 'userId' | 'revokedAt'>;

/** Still usable, durably and in Redis: not revoked (recorded or tombstoned), not past its deadline. */
async function isLive(services: Services, session: RefreshedSession, now = Date.now()): Promise<boolean> {
  if (session.revokedAt !== null || deadlineOf(session) <= now) return false;
  const userId = session.userId.toHexString();
  const [pending, tombstoned, deadline] = await Promise.all([
    isPendingRevoked(services.models, userId, session.sessionId),
    services.ledger.revokedAmong(userId, [session.sessionId]),
    services.deadlines.get(userId, session.sessionId).catch(() => null),
  ]);
  return !pending && tombstoned.size === 0 && (deadline === null || deadline > now);
}

/**
 * A spent token presented again: within the grace, the pair its spend gave;
 * after it, a theft: the session is revoked (TOKEN_REUSE). Null: refused.
 */
async function spentAgain(services: Services, raw: string, spent: SpentRefreshTokenRecord, request: RequestInfo): Promise<AuthPayload | null> {
  const { models } = services;
  const session = await models.Session.findOne({ sessionId: spent.sessionId }, { ...SESSION_FIELDS, userId: 1, revokedAt: 1 }).lean();
  if (!session || session.userId.toHexString() !== spent.userId) return null;
  if (Date.now() - spent.spentAt.getTime() <= services.config.refreshReuseGraceMs) {
    if (!(await isLive(services, session))) return null;
    const next = nextRefreshToken(refreshKey(services.config.jwtSecret), raw, spent.sessionId);
    // The spender may not have stored the next token's hash yet: stored here too (the same value), so that
    // this caller can spend `next` at once. A no-op once the chain has moved on.
    await models.Session.updateOne({ sessionId: spent.sessionId, revokedAt: null, refreshHash: hashRefreshToken(raw) }, { $set: { refreshHash: hashRefreshToken(next) } });
    return pair(services, session, spent.spentAt, next);
  }
  const revoked = await services.revocations.revoke(spent.userId, [spent.sessionId], 'TOKEN_REUSE');
  if (revoked.length > 0) {
    await recordSecurityEvent(services, {
      userId: spent.userId,
      type: 'TOKEN_REUSE',
      ipAddress: request.ipAddress,
      deviceInfo: session.deviceInfo,
      sessionId: spent.sessionId,
    });
  }
  return null;
}

/** The answer: an access token from `from` (never past the session's end), the next refresh token, the user and the session. */
async function pair(services: Services, session: RefreshedSession, from: Date, refreshToken: string): Promise<AuthPayload> {
  const userId = session.userId.toHexString();
  const user = await services.models.User.findById(userId, PUBLIC_USER_FIELDS).lean();
  if (!user || user.deletingAt) throw unauthenticated();
  const expiresAt = accessTokenEnd(services, from, session.expiresAt);
  const token = signToken({ userId, sessionId: session.sessionId, expiresAt }, services.tokenKeys);
  return { token, refreshToken, user: toUserView(user), session: viewOf(fromRecord(session), session.sessionId) };
}
