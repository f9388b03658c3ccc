import type { RevocationReason, SessionRecord } from '../models/session.js';

/**
 * The one shape of a session as clients see it: GraphQL's `Session`
 * (src/schema/session.ts) exposes exactly these fields, and REST's bodies are
 * shaped from that type (rest-compat/shapes.ts). A session travels in two
 * other forms, each with one converter each way here: its MongoDB record
 * (src/models/session.ts), and JSON (the Redis session list, the
 * `sessionCreated` message), where dates are ISO strings.
 */
export type SessionData = Pick<SessionRecord, 'deviceInfo' | 'ipAddress' | 'userAgent' | 'lastActivity' | 'createdAt' | 'expiresAt'> & {
  /** The session id (the record's `sessionId`), also the token's `sid` claim. */
  id: string;
  /** When it ends unless used before: SESSION_IDLE_TIMEOUT after its last use, never after `expiresAt` (never null here: see fromRecord). */
  idleExpiresAt: Date;
};

/** A session as one caller sees it: `current` marks the caller's own. */
export type SessionView = SessionData & { current: boolean };

/** A session as JSON carries it: dates as ISO strings. */
export type SessionJson = { [K in keyof SessionData]: SessionData[K] extends Date ? string : SessionData[K] };

/** JSON written by an older version may lack the newer fields. */
type StoredSessionJson = Omit<SessionJson, 'idleExpiresAt'> & { idleExpiresAt?: string };

/** The record fields a session is made of: what MongoDB reads for it, nothing else. */
export const SESSION_FIELDS = {
  sessionId: 1,
  deviceInfo: 1,
  ipAddress: 1,
  userAgent: 1,
  lastActivity: 1,
  createdAt: 1,
  expiresAt: 1,
  idleExpiresAt: 1,
} as const satisfies Partial<Record<keyof SessionRecord, 1>>;

export type SessionFields = Pick<SessionRecord, keyof typeof SESSION_FIELDS>;

/** An idle deadline is written as "timeout from the last use"; it never passes the absolute end. */
export const capped = (idleExpiresAt: Date | null, expiresAt: Date): Date =>
  idleExpiresAt === null || idleExpiresAt.getTime() > expiresAt.getTime() ? expiresAt : idleExpiresAt;

export function fromRecord(record: SessionFields): SessionData {
  return {
    id: record.sessionId,
    deviceInfo: record.deviceInfo,
    ipAddress: record.ipAddress,
    userAgent: record.userAgent,
    lastActivity: record.lastActivity,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    // Sessions of versions before idle expiry: their end was their only deadline.
    idleExpiresAt: capped(record.idleExpiresAt, record.expiresAt),
  };
}

/** `current` is the caller's session (null: no caller, none is current). */
export const viewOf = (session: SessionData, currentSessionId: string | null): SessionView => ({
  ...session,
  current: session.id === currentSessionId,
});

export function toJson(session: SessionData): SessionJson {
  return {
    id: session.id,
    deviceInfo: session.deviceInfo,
    ipAddress: session.ipAddress,
    userAgent: session.userAgent,
    lastActivity: session.lastActivity.toISOString(),
    createdAt: session.createdAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    idleExpiresAt: session.idleExpiresAt.toISOString(),
  };
}

export function fromJson(json: StoredSessionJson): SessionData {
  return {
    id: json.id,
    deviceInfo: json.deviceInfo,
    ipAddress: json.ipAddress,
    userAgent: json.userAgent,
    lastActivity: new Date(json.lastActivity),
    createdAt: new Date(json.createdAt),
    expiresAt: new Date(json.expiresAt),
    // An entry written before idle expiry (the Redis list, a message in flight): its end was its only deadline.
    idleExpiresAt: new Date(json.idleExpiresAt ?? json.expiresAt),
  };
}

/** One session's revocation as a stream tells it (GraphQL `SessionRevokedEvent`, REST `session-revoked`). */
export interface SessionRevokedEvent {
  sessionId: string;
  reason: RevocationReason;
  revokedAt: Date;
  /** The revoked session is the listener's own: the stream ends after this event. */
  current: boolean;
}
