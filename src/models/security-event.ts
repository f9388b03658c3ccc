import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const SECURITY_EVENT_TYPES = [
  'SIGNED_IN',
  'SIGNED_OUT',
  'SESSION_REVOKED',
  /** The user said a session was not theirs ("This wasn't me" on /devices): it was revoked, as SESSION_REVOKED. */
  'SESSION_REPORTED',
  'SIGNED_OUT_EVERYWHERE',
  'PASSWORD_CHANGED',
  'FAILED_SIGN_IN',
  'SIGN_IN_THROTTLED',
  // Done by an administrator (src/admin/): one session (sessionId set) or all of them (null), a block, its lifting.
  'REVOKED_BY_ADMIN',
  'BLOCKED_BY_ADMIN',
  'UNBLOCKED_BY_ADMIN',
  'EXPIRED',
  'TOKEN_REUSE',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/**
 * One entry of a user's security timeline. Only what the user may see of their
 * own account: never a password, a token, or an attempted email.
 */
export interface SecurityEventRecord {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  type: SecurityEventType;
  at: Date;
  /** Where the action came from (the request's address). */
  ipAddress: string;
  /** The device that acted: its session's name, else derived from the User-Agent. */
  deviceInfo: string;
  /** The session concerned, where there is one (the new one, the revoked one, the caller's). */
  sessionId: string | null;
  /**
   * The name of the session concerned when it is not the device that acted (a
   * revoked or reported device): the timeline names both. Null otherwise, and
   * in entries written before it existed.
   */
  sessionDeviceInfo?: string | null;
}

export type SecurityEventModel = Model<SecurityEventRecord>;

const securityEventSchema = new Schema<SecurityEventRecord>(
  {
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    type: { type: String, enum: SECURITY_EVENT_TYPES, required: true },
    at: { type: Date, required: true },
    ipAddress: { type: String, required: true, maxlength: 64 },
    deviceInfo: { type: String, required: true, maxlength: 200 },
    sessionId: { type: String, default: null },
    sessionDeviceInfo: { type: String, default: null, maxlength: 200 },
  },
  { strict: 'throw', strictQuery: 'throw' },
);
// The timeline, newest first, paged by (at, _id).
securityEventSchema.index({ userId: 1, at: -1, _id: -1 });
// The retention purge reads the oldest first (no TTL index: FerretDB refuses them).
securityEventSchema.index({ at: 1 });

export function securityEventModel(connection: Connection): SecurityEventModel {
  return connection.model<SecurityEventRecord>('SecurityEvent', securityEventSchema);
}
