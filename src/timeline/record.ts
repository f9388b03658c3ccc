import type { Types } from 'mongoose';
import { describeUserAgent, UNKNOWN_DEVICE } from '../auth/device.js';
import type { RateLimiter } from '../auth/rate-limit.js';
import { MAX_LENGTH, truncateCodePoints } from '../auth/validation.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Models } from '../models/index.js';
import type { SecurityEventType } from '../models/security-event.js';
import type { SessionList } from '../sessions/session-list.js';

/**
 * Writing the security timeline: what the actions record (src/resolvers/
 * security-events.ts reads it). What it needs, and nothing else, so that the
 * services can build the refused sign-ins' recorder with it.
 */
export interface TimelineDeps {
  models: Pick<Models, 'SecurityEvent' | 'Session'>;
  rateLimiter: RateLimiter;
  sessionList: Pick<SessionList, 'find'>;
  log: Logger;
}

/**
 * Failed and throttled sign-ins are the entries a stranger can cause. Each is
 * recorded at most once per account in this window (the first attempt, with its
 * address and device): a sustained attack adds at most 2 × 96 entries a day, and
 * cannot flood the owner's timeline or the database.
 */
export const COALESCE_WINDOW_MS = 15 * 60_000;
const COALESCED: ReadonlySet<SecurityEventType> = new Set(['FAILED_SIGN_IN', 'SIGN_IN_THROTTLED']);

export interface SecurityEventInput {
  userId: string | Types.ObjectId;
  type: SecurityEventType;
  ipAddress: string;
  deviceInfo: string;
  sessionId?: string | null;
  /** The concerned session's name, when it is not the device that acted. */
  sessionDeviceInfo?: string | null;
  /** When it happened; defaults to now. */
  at?: Date;
}

/**
 * Adds one entry to a user's timeline. A failed write is logged, not thrown:
 * the action it records has already happened and must not be reported as failed.
 */
export async function recordSecurityEvent(deps: Omit<TimelineDeps, 'sessionList'>, event: SecurityEventInput): Promise<void> {
  const { models, rateLimiter, log } = deps;
  const at = event.at ?? new Date();
  try {
    if (COALESCED.has(event.type)) {
      // The limiter's counter is shared by every instance (Redis): the first in the window wins.
      const first = await rateLimiter.hit(`security-event:${event.type}:${String(event.userId)}`, 1, COALESCE_WINDOW_MS);
      if (!first.allowed) return;
    }
    await models.SecurityEvent.create({
      userId: event.userId,
      type: event.type,
      at,
      // A valid address already (src/http/ip-address.ts); the name cut as every deviceInfo is, in code points.
      ipAddress: event.ipAddress,
      deviceInfo: truncateCodePoints(event.deviceInfo, MAX_LENGTH.deviceInfo) || UNKNOWN_DEVICE,
      sessionId: event.sessionId ?? null,
      sessionDeviceInfo: event.sessionDeviceInfo ? truncateCodePoints(event.sessionDeviceInfo, MAX_LENGTH.deviceInfo) : null,
    });
  } catch (error) {
    log.error({ err: (error as Error).message, type: event.type }, 'security event not recorded');
  }
}

/** A session's name: from the Redis list first (on FerretDB a lookup by session id scans the whole collection), else MongoDB. */
export async function sessionName(deps: Pick<TimelineDeps, 'models' | 'sessionList'>, userId: string, sessionId: string): Promise<string | null> {
  const session =
    (await deps.sessionList.find(userId, sessionId).catch(() => null)) ??
    (await deps.models.Session.findOne({ sessionId, userId }, { deviceInfo: 1 })
      .lean()
      .catch(() => null));
  return session?.deviceInfo ?? null;
}

/**
 * Records what a signed-in caller did, naming the device by its session (as the
 * session list does), else by the request's User-Agent. An action on another
 * session (`sessionId`) names that device too: give its name as `sessionDeviceInfo`
 * when it was read before the action, else it is read here.
 */
export async function recordViewerEvent(
  deps: TimelineDeps,
  viewer: Viewer,
  request: RequestInfo,
  type: SecurityEventType,
  sessionId: string = viewer.sessionId,
  sessionDeviceInfo?: string | null,
): Promise<void> {
  const other = sessionId !== viewer.sessionId;
  const [actor, concerned] = await Promise.all([
    sessionName(deps, viewer.userId, viewer.sessionId),
    other && sessionDeviceInfo === undefined ? sessionName(deps, viewer.userId, sessionId) : Promise.resolve(sessionDeviceInfo ?? null),
  ]);
  await recordSecurityEvent(deps, {
    userId: viewer.userId,
    type,
    ipAddress: request.ipAddress,
    deviceInfo: actor ?? describeUserAgent(request.userAgent),
    sessionId,
    sessionDeviceInfo: other ? concerned : null,
  });
}

/** True for the error the sign-in limits throw when a sign-in is refused for its rate. */
export const isThrottled = (error: unknown): boolean => error instanceof AppError && error.code === 'RATE_LIMITED';
