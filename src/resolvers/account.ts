import { badInput, unauthenticated } from '../errors.js';
import { op } from '../models/session.js';
import { refreshCachedProfile } from '../account/cache.js';
import { finishDeletion, revokeAllSessions } from '../account/deletion.js';
import type { Services } from '../services.js';
import { validateCurrentPassword, validatePassword } from '../auth/validation.js';
import { recordViewerEvent } from '../timeline/record.js';
import { verifyViewerPassword } from '../auth/step-up.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import { passwordChangedEvent } from '../webhooks/events.js';

export interface ChangePasswordPayload {
  revokedCount: number;
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
  const changedAt = new Date();
  // Its webhook is written first, confirmed after: a crash in between loses nothing (src/webhooks/outbox.ts).
  await services.webhooks.intend(viewer.userId, [passwordChangedEvent(viewer.userId, hash, changedAt, null)]);
  // The hash is stored before the sessions are read: a sign-in that verified
  // the old password either shows up in that read or sees the new hash itself
  // (confirmSignIn) and is revoked.
  const stored = await services.models.User.updateOne(
    { _id: viewer.userId, deletingAt: op({ $exists: false }) },
    { $set: { password: hash } },
  );
  if (stored.matchedCount === 0) {
    await services.webhooks.cancel(viewer.userId, [passwordChangedEvent(viewer.userId, hash, changedAt, null)]);
    throw unauthenticated();
  }
  // `me` answers from the cached profile: it follows the new `updatedAt`.
  const updated = await services.models.User.findById(viewer.userId).lean();
  if (updated) await refreshCachedProfile(services, updated);
  const revoked = await revokeAllSessions(services, viewer.userId, 'PASSWORD_CHANGED', viewer.sessionId);
  await recordViewerEvent(services, viewer, request, 'PASSWORD_CHANGED');
  await services.webhooks.confirm(viewer.userId, [passwordChangedEvent(viewer.userId, hash, changedAt, revoked.length)]);
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
  args: { password?: unknown; currentPassword?: unknown },
  request: RequestInfo,
): Promise<boolean> {
  // `currentPassword` as the other sensitive actions name it (src/auth/step-up.ts); `password` as it always was.
  const password =
    args.password == null && args.currentPassword != null
      ? validateCurrentPassword(args.currentPassword, 'currentPassword')
      : validateCurrentPassword(args.password, 'password');
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
