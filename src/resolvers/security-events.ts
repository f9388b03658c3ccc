import { createHmac, timingSafeEqual } from 'node:crypto';
import { Types } from 'mongoose';
import { AppError, badInput } from '../errors.js';
import type { SecurityEventRecord, SecurityEventType } from '../models/security-event.js';
import { op } from '../models/session.js';
import type { Services } from '../services.js';
import type { Viewer } from '../auth/viewer.js';

/** One entry of the timeline as both APIs show it. */
export interface SecurityEventView {
  id: string;
  type: SecurityEventType;
  at: Date;
  ipAddress: string;
  deviceInfo: string;
  sessionId: string | null;
  sessionDeviceInfo: string | null;
  current: boolean;
}

export interface SecurityEventConnection {
  events: SecurityEventView[];
  nextCursor: string | null;
}


// --- the timeline ---

const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;
const MAX_CURSOR_LENGTH = 200;

/**
 * Cursors are `base64url(userId.atMs.id).mac`: opaque to clients, and a
 * forged one, or one from another account, fails the MAC check and is refused
 * as BAD_USER_INPUT. They point inside the caller's own events only anyway.
 */
function cursorMac(services: Services, payload: string): Buffer {
  return createHmac('sha256', `${services.config.jwtSecret}\u0000security-events-cursor`).update(payload).digest().subarray(0, 16);
}

function encodeCursor(services: Services, userId: string, event: Pick<SecurityEventRecord, 'at' | '_id'>): string {
  const payload = `${userId}.${event.at.getTime()}.${event._id.toHexString()}`;
  return `${Buffer.from(payload).toString('base64url')}.${cursorMac(services, payload).toString('base64url')}`;
}

function decodeCursor(services: Services, userId: string, value: unknown, field: string): { at: Date; id: Types.ObjectId } {
  const refuse = (): AppError => badInput(field, `${field} is not a cursor from this list`);
  if (typeof value !== 'string' || value.length > MAX_CURSOR_LENGTH) throw refuse();
  const [encoded, mac, ...rest] = value.split('.');
  if (!encoded || !mac || rest.length > 0) throw refuse();
  const payload = Buffer.from(encoded, 'base64url').toString('utf8');
  const expected = cursorMac(services, payload);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse();
  const [owner, atMs, id] = payload.split('.');
  if (owner !== userId || !atMs || !/^\d+$/.test(atMs) || !id || !Types.ObjectId.isValid(id)) throw refuse();
  return { at: new Date(Number(atMs)), id: new Types.ObjectId(id) };
}

function validatePageSize(value: unknown, field: string): number {
  if (value === undefined || value === null) return DEFAULT_PAGE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PAGE) {
    throw badInput(field, `${field} must be a whole number from 1 to ${MAX_PAGE}`);
  }
  return value;
}

/**
 * Every page of the timeline is a MongoDB query (on FerretDB, a scan): each
 * user gets SECURITY_EVENTS_READS_PER_MINUTE of them, counted in Redis across
 * instances and both APIs, so that one account reading in a loop cannot slow
 * everyone else down. A page refused for bad input is not counted: it costs nothing.
 */
async function spendTimelineRead(services: Services, userId: string): Promise<void> {
  const decision = await services.rateLimiter.hit(`timeline-reads:${userId}`, services.config.securityEventsReadsPerMinute, 60_000);
  if (!decision.allowed) {
    const retryAfter = decision.retryAfterSeconds;
    throw new AppError('RATE_LIMITED', `Too many timeline reads: try again in ${retryAfter} s`, { retryAfter });
  }
}

/**
 * The viewer's own timeline, newest first, `first` at a time after the
 * `after` cursor. `fields` names the arguments in errors (REST calls them
 * `limit` and `cursor`).
 */
export async function listSecurityEvents(
  services: Services,
  viewer: Viewer,
  args: { first?: unknown; after?: unknown },
  fields: { first: string; after: string } = { first: 'first', after: 'after' },
): Promise<SecurityEventConnection> {
  const first = validatePageSize(args.first, fields.first);
  const after = args.after === undefined || args.after === null ? null : decodeCursor(services, viewer.userId, args.after, fields.after);
  await spendTimelineRead(services, viewer.userId);
  const page = await services.models.SecurityEvent.find({
    userId: viewer.userId,
    ...(after ? { $or: [{ at: op({ $lt: after.at }) }, { at: after.at, _id: op({ $lt: after.id }) }] } : {}),
  })
    .sort({ at: -1, _id: -1 })
    .limit(first + 1)
    .lean();
  const events = page.slice(0, first);
  const last = events.at(-1);
  return {
    events: events.map((e) => ({
      id: e._id.toHexString(),
      type: e.type,
      at: e.at,
      ipAddress: e.ipAddress,
      deviceInfo: e.deviceInfo,
      sessionId: e.sessionId,
      sessionDeviceInfo: e.sessionDeviceInfo ?? null,
      current: e.sessionId !== null && e.sessionId === viewer.sessionId,
    })),
    nextCursor: page.length > first && last ? encodeCursor(services, viewer.userId, last) : null,
  };
}
