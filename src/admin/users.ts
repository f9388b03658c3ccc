import { Types } from 'mongoose';
import { badInput, notFound } from '../errors.js';
import { validateEmail, validateSessionId } from '../auth/validation.js';
import { toUserView, type RequestInfo, type UserView } from '../auth/viewer.js';
import { revokeAllSessions } from '../account/deletion.js';
import type { UserRecord } from '../models/user.js';
import { op } from '../models/session.js';
import { activeSessions, requireOwnSession } from '../sessions/active.js';
import type { SessionView } from '../sessions/session.js';
import type { SecurityEventType } from '../models/security-event.js';
import { recordSecurityEvent, sessionName } from '../timeline/record.js';
import type { Services } from '../services.js';
import { userBlockedEvent } from '../webhooks/events.js';

/**
 * What an administrator can do to a user (the admin API, rest-compat/admin.ts):
 * plain functions over the same revocation path as the users' own sign-outs
 * (src/revocation/revocations.ts), so every device hears of it the same way,
 * with reason ADMIN_REVOKED, and the user's timeline says an administrator did it.
 */

/** A user as the admin API shows it: what `me` shows, and whether sign-in is blocked. */
export type AdminUserView = UserView & { blocked: boolean };

/** Who acted, for the timeline: the admin request's address. */
export type AdminRequest = RequestInfo;

/** How the timeline names the device that acted. */
export const ADMINISTRATOR = 'Administrator';

type UserFields = Pick<UserRecord, '_id' | 'email' | 'name' | 'createdAt' | 'updatedAt' | 'blockedAt' | 'deletingAt' | 'registeringSince'>;
const USER_FIELDS = { email: 1, name: 1, createdAt: 1, updatedAt: 1, blockedAt: 1, deletingAt: 1, registeringSince: 1 } as const;

function viewOf(user: UserFields): AdminUserView {
  return { ...toUserView(user), blocked: user.blockedAt !== undefined && user.blockedAt !== null };
}

/** A user id as the API takes it: the 24 hex digits `User.id` shows. */
export function validateUserId(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{24}$/i.test(value)) throw badInput('id', 'id must be a user id (24 hexadecimal digits)');
  return value.toLowerCase();
}

/** An account that exists (not an unfinished registration, not being deleted), else NOT_FOUND. */
async function existing(services: Services, filter: { _id: Types.ObjectId } | { email: string }): Promise<UserFields> {
  const user = await services.models.User.findOne(filter, USER_FIELDS).lean<UserFields>();
  if (!user || user.registeringSince || user.deletingAt) throw notFound('No such user');
  return user;
}

export async function findUserByEmail(services: Services, email: unknown): Promise<AdminUserView> {
  return viewOf(await existing(services, { email: validateEmail(email) }));
}

export async function findUserById(services: Services, id: unknown): Promise<AdminUserView> {
  return viewOf(await existing(services, { _id: new Types.ObjectId(validateUserId(id)) }));
}

/** The user's active sessions, newest first (`current` is always false: no session is the caller's). */
export async function listUserSessions(services: Services, id: unknown): Promise<SessionView[]> {
  const user = await findUserById(services, id);
  return activeSessions(services, user.id, null);
}

async function recordAdminEvent(
  services: Services,
  userId: string,
  type: SecurityEventType,
  request: AdminRequest,
  sessionId: string | null = null,
  sessionDeviceInfo: string | null = null,
): Promise<void> {
  await recordSecurityEvent(services, { userId, type, ipAddress: request.ipAddress, deviceInfo: ADMINISTRATOR, sessionId, sessionDeviceInfo });
}

/** Revokes every active session of the user (ADMIN_REVOKED); what this call revoked. */
export async function revokeUserSessions(
  services: Services,
  id: unknown,
  request: AdminRequest,
): Promise<{ revokedCount: number; revokedSessionIds: string[] }> {
  const user = await findUserById(services, id);
  const revokedSessionIds = await revokeAllSessions(services, user.id, 'ADMIN_REVOKED');
  await recordAdminEvent(services, user.id, 'REVOKED_BY_ADMIN', request);
  return { revokedCount: revokedSessionIds.length, revokedSessionIds };
}

/** Revokes one active session of the user (ADMIN_REVOKED); any other id is NOT_FOUND. */
export async function revokeUserSession(services: Services, id: unknown, sessionIdInput: unknown, request: AdminRequest): Promise<true> {
  const userId = validateUserId(id);
  const sessionId = validateSessionId(sessionIdInput);
  const { listedName } = await requireOwnSession(services, userId, sessionId, 'No active session with this id for this user');
  // Its name before it is revoked, for the timeline (which device the administrator signed out).
  const name = listedName ?? (await sessionName(services, userId, sessionId));
  const revoked = await services.revocations.revoke(userId, [sessionId], 'ADMIN_REVOKED');
  if (revoked.length === 0) throw notFound('No active session with this id for this user');
  await recordAdminEvent(services, userId, 'REVOKED_BY_ADMIN', request, sessionId, name);
  return true;
}

/**
 * Blocks sign-in, then revokes every session (ADMIN_REVOKED). The mark is
 * written before the sessions are read, as deleteAccount does: a sign-in that
 * verified the password meanwhile either shows up in that read, or sees the
 * mark itself after creating its session (confirmSignIn) and revokes it.
 */
export async function blockUser(services: Services, id: unknown, request: AdminRequest): Promise<AdminUserView> {
  const found = await findUserById(services, id);
  const blockedAt = new Date();
  // Its webhook is written first, confirmed after: a crash in between loses nothing (src/webhooks/outbox.ts).
  await services.webhooks.intend(found.id, [userBlockedEvent(found.id, blockedAt, null)]);
  const newly = await services.models.User.updateOne({ _id: found.id, blockedAt: op({ $exists: false }) }, { $set: { blockedAt } });
  if (newly.modifiedCount === 0) await services.webhooks.cancel(found.id, [userBlockedEvent(found.id, blockedAt, null)]);
  const revokedSessionIds = await revokeAllSessions(services, found.id, 'ADMIN_REVOKED');
  if (newly.modifiedCount > 0) {
    await recordAdminEvent(services, found.id, 'BLOCKED_BY_ADMIN', request);
    await services.webhooks.confirm(found.id, [userBlockedEvent(found.id, blockedAt, revokedSessionIds)]);
  }
  return findUserById(services, found.id);
}

/** Lets the user sign in again (their revoked sessions stay revoked). */
export async function unblockUser(services: Services, id: unknown, request: AdminRequest): Promise<AdminUserView> {
  const found = await findUserById(services, id);
  const lifted = await services.models.User.updateOne({ _id: found.id, blockedAt: op({ $exists: true }) }, { $unset: { blockedAt: 1 } });
  if (lifted.modifiedCount > 0) await recordAdminEvent(services, found.id, 'UNBLOCKED_BY_ADMIN', request);
  return findUserById(services, found.id);
}
