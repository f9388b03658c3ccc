import { AppError, badInput, unauthenticated } from '../errors.js';
import type { UserRecord } from '../models/user.js';
import { op } from '../models/session.js';
import { refreshCachedProfile } from '../account/cache.js';
import { finishDeletion, revokeAllSessions } from '../account/deletion.js';
import type { Services } from '../services.js';
import { validateCurrentPassword, validatePassword } from '../auth/validation.js';
import { isThrottled, recordViewerEvent } from '../timeline/record.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import { passwordChangedEvent } from '../webhooks/events.js';

export interface ChangePasswordPayload {
  revokedCount: number;
}

/**
 * Checks the caller's password as a sign-in would: the same limits (a wrong
 * password counts), and the refusal recorded on the timeline.
 */
async function verifyViewerPassword(services: Services, viewer: Viewer, password: string, request: RequestInfo): Promise<UserRecord> {
  const user = await services.models.User.findById(viewer.userId).select('+password').lean();
  // An account being deleted is gone as far as its tokens are concerned.
  if (!user || user.deletingAt) throw unauthenticated();
  const attempt = { email: user.email, ip: request.ipAddress };
  try {
    await services.signInLimiter.checkSignIn(attempt);
  } catch (error) {
    if (isThrottled(error)) await recordViewerEvent(services, viewer, request, 'SIGN_IN_THROTTLED');
    throw error;
  }
  if (!(await services.passwords.verify(password, user.password))) {
    await services.signInLimiter.recordFailure(attempt);
    await recordViewerEvent(services, viewer, request, 'FAILED_SIGN_IN');
    throw new AppError('INVALID_CREDENTIALS', 'Wrong password');
  }
  await services.signInLimiter.recordSuccess(attempt);
  return user;
}


/**
 * Sets a new password and signs every other device out (PASSWORD_CHANGED)
 * before answering; the caller's own session stays.
 */
export async function changePassword(
  services: Services,
  viewer: Viewer,
  args: { currentPassword?: unknown; newPassword?: unknown },
  request: RequestInfo,
): Promise<ChangePasswordPayload> {
  const currentPassword = validateCurrentPassword(args.currentPassword, 'currentPassword');
  const newPassword = validatePassword(args.newPassword, 'newPassword');
  if (newPassword === currentPassword) throw badInput('newPassword', 'newPassword must differ from the current password');
  await verifyViewerPassword(services, viewer, currentPassword, request);
  const hash = await services.passwords.hash(newPassword);
  // The hash is stored before the sessions are read: a sign-in that verified
  // the old password either shows up in that read or sees the new hash itself
  // (confirmSignIn) and is revoked.
  const stored = await services.models.User.updateOne(
    { _id: viewer.userId, deletingAt: op({ $exists: false }) },
    { $set: { password: hash } },
  );
  if (stored.matchedCount === 0) throw unauthenticated();
  // `me` answers from the cached profile: it follows the new `updatedAt`.
  const updated = await services.models.User.findById(viewer.userId).lean();
  if (updated) await refreshCachedProfile(services, updated);
  const revoked = await revokeAllSessions(services, viewer.userId, 'PASSWORD_CHANGED', viewer.sessionId);
  await recordViewerEvent(services, viewer, request, 'PASSWORD_CHANGED');
  await services.webhooks.notify(viewer.userId, [passwordChangedEvent(viewer.userId, revoked.length)]);
  return { revokedCount: revoked.length };
}

/**
 * Deletes the account: every session revoked and announced (ACCOUNT_DELETED),
 * then its sessions, its timeline and the user; the email is free again.
 *
 * Crash-safe without transactions: the user is marked `deletingAt` first, which
 * already refuses sign-ins, password changes and `me`; every later step is
 * idempotent, and the user document goes last, so an interrupted deletion is
 * finished by a retry or by the sweeper (finishPendingDeletions).
 */
export async function deleteAccount(
  services: Services,
  viewer: Viewer,
  args: { password?: unknown },
  request: RequestInfo,
): Promise<boolean> {
  const password = validateCurrentPassword(args.password, 'password');
  await verifyViewerPassword(services, viewer, password, request);
  await services.models.User.updateOne(
    { _id: viewer.userId, deletingAt: op({ $exists: false }) },
    { $set: { deletingAt: new Date() } },
  );
  // Tokens are checked against the cached profile: without it the next request of any of
  // the account's tokens asks MongoDB, which now says the account is going.
  await services.cache.clearUser(viewer.userId);
  await finishDeletion(services, viewer.userId);
  return true;
}
