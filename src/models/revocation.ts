import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { REVOCATION_REASONS, type RevocationReason } from './session.js';

/**
 * One revocation call, as recorded: the sessions it revoked, why, and its
 * number in the user's order. Written as one document whatever the number of
 * sessions, before the call is announced or answered: this is what makes a
 * revocation durable. Streams read these (at their start, and on a gap in the
 * numbers) rather than the sessions themselves. The sessions' own revokedAt
 * follows in the background; until it is done (`marked`), whatever reads a
 * session from MongoDB also reads the unmarked records of its user
 * (src/revocation/durable.ts), so no session they name counts as active.
 */
export interface RevocationRecord {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  seq: number;
  sessionIds: string[];
  reason: RevocationReason;
  revokedAt: Date;
  /** Every session it names has its revokedAt written (src/revocation/marking.ts). */
  marked: boolean;
}

export type RevocationModel = Model<RevocationRecord>;

const revocationSchema = new Schema<RevocationRecord>(
  {
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    seq: { type: Number, required: true },
    sessionIds: { type: [String], required: true },
    reason: { type: String, enum: REVOCATION_REASONS, required: true },
    revokedAt: { type: Date, required: true },
    marked: { type: Boolean, required: true, default: false },
  },
  { strict: 'throw', strictQuery: 'throw', versionKey: false },
);
// One record per call: a repeated completion (a sweeper after a crash) is refused as a duplicate.
revocationSchema.index({ userId: 1, seq: 1 }, { unique: true });
// A stream's start: what was revoked since it authenticated.
revocationSchema.index({ userId: 1, revokedAt: 1 });
// Sessions revoked and not marked yet, per user (checked wherever MongoDB says a session is active).
revocationSchema.index({ userId: 1, marked: 1 });
// The marking sweep: records left unmarked, oldest first.
revocationSchema.index({ marked: 1, revokedAt: 1 });
// The purge.
revocationSchema.index({ revokedAt: 1 });

export function revocationModel(connection: Connection): RevocationModel {
  return connection.model<RevocationRecord>('Revocation', revocationSchema);
}
