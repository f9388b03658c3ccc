import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { MAX_LENGTH, maxCodePoints } from '../auth/validation.js';

export interface UserRecord {
  _id: Types.ObjectId;
  email: string;
  /** bcrypt hash; never selected unless asked for. */
  password: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
  /**
   * Set when deleteAccount starts; absent otherwise. From then on the account
   * cannot sign in, and if the deletion is interrupted a sweeper finishes it
   * (src/resolvers/account.ts).
   */
  deletingAt?: Date;
  /**
   * Set while the registration that creates the account is unfinished, and
   * removed by its last write: until then it is no account at all (it cannot
   * sign in, the same registration retried replaces it, and housekeeping
   * removes it after a while: src/account/registration.ts).
   */
  registeringSince?: Date;
  /**
   * Set by an administrator (src/admin/users.ts): the account cannot sign in
   * until it is removed. Its sessions were revoked (ADMIN_REVOKED) when it was set.
   */
  blockedAt?: Date;
}

export type UserModel = Model<UserRecord>;

const userSchema = new Schema<UserRecord>(
  {
    // Lengths in code points, by the validator's own rule (maxlength would count UTF-16 units).
    email: { type: String, required: true, trim: true, lowercase: true, validate: maxCodePoints(MAX_LENGTH.email) },
    password: { type: String, required: true, select: false },
    name: { type: String, required: true, trim: true, validate: maxCodePoints(MAX_LENGTH.name) },
    deletingAt: { type: Date },
    registeringSince: { type: Date },
    blockedAt: { type: Date },
  },
  { timestamps: true, strict: 'throw', strictQuery: 'throw' },
);
userSchema.index({ email: 1 }, { unique: true });
// Only accounts being deleted carry the field: the sweeper's query reads this small index.
userSchema.index({ deletingAt: 1 }, { sparse: true });
// Likewise for unfinished registrations, which housekeeping looks for.
userSchema.index({ registeringSince: 1 }, { sparse: true });

export function userModel(connection: Connection): UserModel {
  return connection.model<UserRecord>('User', userSchema);
}
