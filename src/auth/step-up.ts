import { AppError, unauthenticated } from '../errors.js';
import type { UserRecord } from '../models/user.js';
import type { Services } from '../services.js';
import { isThrottled, recordViewerEvent } from '../timeline/record.js';
import { validateCurrentPassword } from './validation.js';
import type { RequestInfo, Viewer } from './viewer.js';

/**
 * Step-up for sensitive actions (FRESH_AGE): `logoutAll`, revoking another
 * device, `deleteAccount` and `changePassword` need the current password in
 * the call, or a sign-in or refresh of the caller's session within FRESH_AGE;
 * else REAUTHENTICATION_REQUIRED (403). Off while FRESH_AGE is unset, so that
 * clients written for the original server keep working. A stolen access token
 * alone then cannot sign the owner out everywhere or delete the account.
 */

/**
 * Checks the caller's password as a sign-in would: the same limits (a wrong
 * password counts), and the refusal recorded on the timeline.
 */
export async function verifyViewerPassword(services: Services, viewer: Viewer, password: string, request: RequestInfo): Promise<UserRecord> {
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
 * Passes when the caller may do a sensitive action: the password given is
 * right (checked as a sign-in would be), or FRESH_AGE is off, or the session
 * signed in or refreshed within it. `currentPassword` absent (undefined or
 * null): no password given.
 */
export async function requireFreshSignIn(services: Services, viewer: Viewer, currentPassword: unknown, request: RequestInfo): Promise<void> {
  if (currentPassword !== undefined && currentPassword !== null) {
    await verifyViewerPassword(services, viewer, validateCurrentPassword(currentPassword, 'currentPassword'), request);
    return;
  }
  const freshAge = services.config.freshAgeMs;
  if (freshAge === undefined) return;
  const session = await services.models.Session.findOne({ sessionId: viewer.sessionId }, { freshAt: 1, createdAt: 1 }).lean();
  const freshAt = session?.freshAt ?? session?.createdAt;
  if (!freshAt || Date.now() - freshAt.getTime() > freshAge) throw new AppError('REAUTHENTICATION_REQUIRED');
}
