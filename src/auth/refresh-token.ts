import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Refresh tokens: `<sessionId>.<secret>`, the secret 256 bits, base64url. The
 * session id only says where to look; the secret is what proves possession,
 * and only its hash is stored (src/models/session.ts `refreshHash`).
 *
 * Each one is spent once (src/sessions/refresh.ts). The next token is derived
 * from the spent one with a server key, so that two requests racing to spend
 * the same token (two tabs, two instances) both arrive at the same next one
 * without talking to each other: exactly one new pair however many race.
 * Without the key the next token cannot be computed from the spent one.
 */

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The key the next tokens are derived with, from JWT_SECRET (a key of its own, not the signing key itself). */
export function refreshKey(jwtSecret: string): Buffer {
  return createHmac('sha256', jwtSecret).update('logout-all refresh token v1').digest();
}

export function newRefreshToken(sessionId: string): string {
  return `${sessionId}.${randomBytes(32).toString('base64url')}`;
}

/** The token that follows `spent`: the same for everyone who spends it, unguessable without the key. */
export function nextRefreshToken(key: Buffer, spent: string, sessionId: string): string {
  return `${sessionId}.${createHmac('sha256', key).update(spent).digest('base64url')}`;
}

/** What is stored: never the token itself. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The session a well-formed token names, or null for anything else. */
export function sessionOfRefreshToken(token: string): string | null {
  const dot = token.indexOf('.');
  if (dot < 0) return null;
  const [sessionId, secret] = [token.slice(0, dot), token.slice(dot + 1)];
  return UUID.test(sessionId) && SECRET.test(secret) ? sessionId : null;
}
