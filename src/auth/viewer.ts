import type { UserRecord } from '../models/user.js';

/** A user as clients see it (docs/contract.md `User`), also what the session cache keeps of the account. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields of a user any client may see, and `deletingAt` to refuse a deleted one: all a read of the user for a view needs. */
export const PUBLIC_USER_FIELDS = { email: 1, name: 1, createdAt: 1, updatedAt: 1, deletingAt: 1 } as const;

export function toUserView(user: Pick<UserRecord, '_id' | 'email' | 'name' | 'createdAt' | 'updatedAt'>): UserView {
  return {
    id: user._id.toHexString(),
    email: user.email,
    name: user.name,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

/** Who made the request: a verified token whose session is active. */
export interface Viewer {
  userId: string;
  sessionId: string;
  expiresAt: Date;
  /** The account's public profile, read with the session check (from Redis when warm). */
  user: UserView;
}

/** Where a request came from, recorded on the sessions it creates. */
export interface RequestInfo {
  ipAddress: string;
  userAgent: string;
}
