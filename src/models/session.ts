import mongoose, { Schema, type Connection, type Model, type Types } from 'mongoose';
import { MAX_LENGTH, maxCodePoints } from '../auth/validation.js';

export const REVOCATION_REASONS = ['LOGOUT', 'LOGOUT_ALL', 'REVOKED', 'PASSWORD_CHANGED', 'ACCOUNT_DELETED', 'SESSION_LIMIT', 'EXPIRED', 'TOKEN_REUSE', 'ADMIN_REVOKED'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface SessionRecord {
  _id: Types.ObjectId;
  /** Public id (UUID), the JWT's `sid`. */
  sessionId: string;
  userId: Types.ObjectId;
  deviceInfo: string;
  ipAddress: string;
  userAgent: string;
  lastActivity: Date;
  createdAt: Date;
  /** The absolute end (SESSION_MAX_AGE after sign-in); sessions of older versions: their token's end. */
  expiresAt: Date;
  /** When it ends unless used again (SESSION_IDLE_TIMEOUT after its last use, never past `expiresAt`); null on older sessions. */
  idleExpiresAt: Date | null;
  /** The last sign-in or refresh (FRESH_AGE, src/auth/step-up.ts); null on older sessions: `createdAt`. */
  freshAt: Date | null;
  /** SHA-256 of the session's current refresh token (src/sessions/refresh.ts); never the token itself. */
  refreshHash: string | null;
  revokedAt: Date | null;
  revokedReason: RevocationReason | null;
  /** The revocation call's number in the user's order (src/revocation/ledger.ts `claim`; its record in src/models/revocation.ts). */
  revokedSeq: number | null;
}

export type SessionModel = Model<SessionRecord>;

const sessionSchema = new Schema<SessionRecord>(
  {
    sessionId: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    // Lengths in code points, by the validator's own rule (maxlength would count UTF-16 units).
    deviceInfo: { type: String, required: true, validate: maxCodePoints(MAX_LENGTH.deviceInfo) },
    ipAddress: { type: String, required: true },
    userAgent: { type: String, default: '', validate: maxCodePoints(MAX_LENGTH.userAgent) },
    lastActivity: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    idleExpiresAt: { type: Date, default: null },
    freshAt: { type: Date, default: null },
    refreshHash: { type: String, default: null, select: false },
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, enum: [...REVOCATION_REASONS, null], default: null },
    revokedSeq: { type: Number, default: null },
  },
  { strict: 'throw', strictQuery: 'throw' },
);
sessionSchema.index({ sessionId: 1 }, { unique: true });
// The session list and logoutAll: a user's sessions, newest first.
sessionSchema.index({ userId: 1, createdAt: -1 });
// The purge (src/models/purge.ts): sessions long expired, or long revoked.
sessionSchema.index({ expiresAt: 1 });
sessionSchema.index({ revokedAt: 1 });

export function sessionModel(connection: Connection): SessionModel {
  return connection.model<SessionRecord>('Session', sessionSchema);
}

/**
 * Marks an operator object as written by us. `sanitizeFilter` is on for the
 * whole process, so any `$`-key that did not pass through here (a client's
 * `{"$ne": null}`) is matched literally instead of being run as an operator.
 */
export const op = <T extends object>(operator: T): T => mongoose.trusted(operator) as T;

/** The filter form of `isActive`: not revoked, not expired. */
export function activeFilter(now = new Date()): { revokedAt: null; expiresAt: { $gt: Date } } {
  return { revokedAt: null, expiresAt: op({ $gt: now }) };
}

/** Is this session usable at `now`? The code checks expiry itself: no TTL index is relied on. */
export function isActive(session: Pick<SessionRecord, 'revokedAt' | 'expiresAt'>, now = new Date()): boolean {
  return session.revokedAt === null && session.expiresAt.getTime() > now.getTime();
}
