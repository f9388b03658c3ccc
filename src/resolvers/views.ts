import type { UserView } from '../auth/viewer.js';
import type { RevocationReason, SessionRecord } from '../models/session.js';

// The user's shape lives with the viewer, which carries it (src/auth/viewer.ts).
export { toUserView, type UserView } from '../auth/viewer.js';

/** The client-visible shapes, shared by GraphQL and REST (API.md: "exactly the GraphQL fields"). */
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

export function toSessionView(
  session: Pick<SessionRecord, 'sessionId' | 'deviceInfo' | 'ipAddress' | 'userAgent' | 'lastActivity' | 'createdAt' | 'expiresAt'>,
  /** The viewer's session (null: no viewer, none is current). */
  currentSessionId: string | null,
): SessionView {
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
