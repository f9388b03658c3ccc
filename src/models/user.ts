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
}

export type UserModel = Model<UserRecord>;

const userSchema = new Schema<UserRecord>(
  {
    // Lengths in code points, by the validator's own rule (maxlength would count UTF-16 units).
    email: { type: String, required: true, trim: true, lowercase: true, validate: maxCodePoints(MAX_LENGTH.email) },
    password: { type: String, required: true, select: false },
    name: { type: String, required: true, trim: true, validate: maxCodePoints(MAX_LENGTH.name) },
  },
  { timestamps: true, strict: 'throw', strictQuery: 'throw' },
);
userSchema.index({ email: 1 }, { unique: true });

export function userModel(connection: Connection): UserModel {
  return connection.model<UserRecord>('User', userSchema);
}
