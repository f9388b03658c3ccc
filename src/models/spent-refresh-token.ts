import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A refresh token that was spent (src/sessions/refresh.ts): its hash as `_id`,
 * so that spending is one insert, and two instances racing to spend the same
 * token get one success and one duplicate key (FerretDB has no transactions
 * nor conditional updates; a unique `_id` holds everywhere).
 */
export interface SpentRefreshTokenRecord {
  /** SHA-256 of the token, base64url. */
  _id: string;
  userId: string;
  sessionId: string;
  spentAt: Date;
  /** When the session this token belonged to ends at the latest: the record is purged after. */
  expiresAt: Date;
}

export type SpentRefreshTokenModel = Model<SpentRefreshTokenRecord>;

const spentSchema = new Schema<SpentRefreshTokenRecord>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    sessionId: { type: String, required: true },
    spentAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { strict: 'throw', strictQuery: 'throw', versionKey: false },
);
// The purge (src/models/purge.ts): records of sessions long over.
spentSchema.index({ expiresAt: 1 });

export function spentRefreshTokenModel(connection: Connection): SpentRefreshTokenModel {
  return connection.model<SpentRefreshTokenRecord>('SpentRefreshToken', spentSchema);
}
