import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { REVOCATION_REASONS, type RevocationReason } from './session.js';

/**
 * One revocation call, as recorded: the sessions it revoked, why, and its
 * number in the user's order. Written as one document whatever the number of
 * sessions, before the call is announced: streams read these (at their start,
 * and on a gap in the numbers) rather than the sessions themselves. The
 * sessions' own revokedAt follows in the background (src/revocation-outbox.ts).
 */
export interface RevocationRecord {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  seq: number;
  sessionIds: string[];
  reason: RevocationReason;
  revokedAt: Date;
}

export type RevocationModel = Model<RevocationRecord>;

const revocationSchema = new Schema<RevocationRecord>(
  {
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    seq: { type: Number, required: true },
    sessionIds: { type: [String], required: true },
    reason: { type: String, enum: REVOCATION_REASONS, required: true },
    revokedAt: { type: Date, required: true },
  },
  { strict: 'throw', strictQuery: 'throw', versionKey: false },
);
// One record per call: a repeated completion (a sweeper after a crash) is refused as a duplicate.
revocationSchema.index({ userId: 1, seq: 1 }, { unique: true });
// A stream's start: what was revoked since it authenticated.
revocationSchema.index({ userId: 1, revokedAt: 1 });
// The purge.
revocationSchema.index({ revokedAt: 1 });

export function revocationModel(connection: Connection): RevocationModel {
  return connection.model<RevocationRecord>('Revocation', revocationSchema);
}
