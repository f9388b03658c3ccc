import type { RevocationReason, SessionRecord } from '../models/session.js';
import type { UserRecord } from '../models/user.js';

/** The client-visible shapes, shared by GraphQL and REST (API.md: "exactly the GraphQL fields"). */
export interface UserView {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionView {
  id: string;
  deviceInfo: string;
  ipAddress: string;
  userAgent: string;
  lastActivity: Date;
  createdAt: Date;
  expiresAt: Date;
  current: boolean;
}

export interface AuthPayload {
  token: string;
  user: UserView;
  session: SessionView;
}

export interface LogoutAllPayload {
  revokedCount: number;
  revokedSessionIds: string[];
}

export interface SessionRevokedEvent {
  sessionId: string;
  reason: RevocationReason;
  revokedAt: Date;
  current: boolean;
}

export function toUserView(user: Pick<UserRecord, '_id' | 'email' | 'name' | 'createdAt' | 'updatedAt'>): UserView {
  return {
    id: user._id.toHexString(),
    email: user.email,
    name: user.name,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

export function toSessionView(session: SessionRecord, currentSessionId: string): SessionView {
  return {
    id: session.sessionId,
    deviceInfo: session.deviceInfo,
    ipAddress: session.ipAddress,
    userAgent: session.userAgent,
    lastActivity: session.lastActivity,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    current: session.sessionId === currentSessionId,
  };
}
