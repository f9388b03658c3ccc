import { badInput, notFound, unauthenticated } from '../errors.js';
import type { Services } from '../services.js';
import { validateOptionalBoolean, validateSessionId } from '../auth/validation.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import { recordViewerEvent, sessionName } from '../timeline/record.js';
import { requireFreshSignIn } from '../auth/step-up.js';
import { activeSessionRecords } from './durable.js';
import { requireOwnSession } from '../sessions/active.js';

/**
 * Signing out: the operations behind `logout`, `logoutAll` and
 * `revokeSession` (and their REST routes), each a revocation
 * (src/revocation/revocations.ts) and a timeline entry.
 */

export interface LogoutAllPayload {
  revokedCount: number;
  revokedSessionIds: string[];
}

export async function logout(services: Services, viewer: Viewer, request: RequestInfo): Promise<boolean> {
  const revoked = await services.revocations.revoke(viewer.userId, [viewer.sessionId], 'LOGOUT');
  // Another call (a logoutAll) claimed the session after this request was authenticated: as if it
  // had come first, this token is no longer good, and the session is that call's to report.
  if (revoked.length === 0) throw unauthenticated();
  await recordViewerEvent(services, viewer, request, 'SIGNED_OUT');
  return true;
}

/**
 * Revokes every session of the viewer's user (but the viewer's own with
 * `exceptCurrent`): those MongoDB, the durable state, holds active, as one
 * revocation (one record, one announcement). The answer counts the sessions
 * this call revoked; a concurrent call announces its own.
 */
export async function logoutAll(
  services: Services,
  viewer: Viewer,
  args: { exceptCurrent?: unknown; currentPassword?: unknown },
  request: RequestInfo,
): Promise<LogoutAllPayload> {
  const exceptCurrent = validateOptionalBoolean(args.exceptCurrent, 'exceptCurrent') ?? false;
  await requireFreshSignIn(services, viewer, args.currentPassword, request);
  const active = await activeSessionRecords(services.models, viewer.userId, {});
  const targets = active.map((s) => s.sessionId).filter((id) => !(exceptCurrent && id === viewer.sessionId));
  const revokedSessionIds = await services.revocations.revoke(viewer.userId, targets, 'LOGOUT_ALL');
  await recordViewerEvent(services, viewer, request, 'SIGNED_OUT_EVERYWHERE');
  return { revokedCount: revokedSessionIds.length, revokedSessionIds };
}

/**
 * Revokes one of the viewer's own active sessions; any other id is NOT_FOUND,
 * whoever owns it. Another device than the caller's is a sensitive action
 * (FRESH_AGE: `currentPassword`, or a recent sign-in). `reported`: the user said
 * it was not theirs ("This wasn't me"), recorded as SESSION_REPORTED instead of
 * SESSION_REVOKED; the revocation is the same (reason REVOKED). The viewer cannot report its own session.
 */
export async function revokeSession(
  services: Services,
  viewer: Viewer,
  id: unknown,
  request: RequestInfo,
  options: { reported?: boolean; currentPassword?: unknown } = {},
): Promise<boolean> {
  const sessionId = validateSessionId(id);
  if (options.reported && sessionId === viewer.sessionId) throw badInput('id', "The caller's own session cannot be reported as not the user's");
  if (sessionId !== viewer.sessionId) await requireFreshSignIn(services, viewer, options.currentPassword, request);
  const { listedName } = await requireOwnSession(services, viewer.userId, sessionId, 'No active session with this id');
  // Its name before it is revoked: the list stops holding a revoked session.
  const name = listedName ?? (await sessionName(services, viewer.userId, sessionId));
  const revoked = await services.revocations.revoke(viewer.userId, [sessionId], 'REVOKED');
  if (revoked.length === 0) throw notFound('No active session with this id');
  await recordViewerEvent(services, viewer, request, options.reported ? 'SESSION_REPORTED' : 'SESSION_REVOKED', sessionId, name);
  return true;
}
