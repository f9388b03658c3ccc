import { Schema, type Connection, type Model, type Types } from 'mongoose';

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
}

export type UserModel = Model<UserRecord>;

const userSchema = new Schema<UserRecord>(
  {
    email: { type: String, required: true, trim: true, lowercase: true, maxlength: 254 },
    password: { type: String, required: true, select: false },
    name: { type: String, required: true, trim: true, maxlength: 100 },
    deletingAt: { type: Date },
  },
  { timestamps: true, strict: 'throw', strictQuery: 'throw' },
);
userSchema.index({ email: 1 }, { unique: true });
// Only accounts being deleted carry the field: the sweeper's query reads this small index.
userSchema.index({ deletingAt: 1 }, { sparse: true });

export function userModel(connection: Connection): UserModel {
  return connection.model<UserRecord>('User', userSchema);
}
