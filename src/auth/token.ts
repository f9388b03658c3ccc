import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { isSessionId } from './validation.js';

/** What a verified token says: who, and through which session. */
export interface TokenClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

// Pinned: a token signed with any other algorithm (none, HS384, RS256 with the
// secret as a public key...) is rejected before its claims are read.
const ALGORITHM = 'HS256';
const OBJECT_ID = /^[0-9a-f]{24}$/;

/**
 * The signing key, built once per process (src/services.ts). Handed a string,
 * jsonwebtoken turns it into a key on every call, on every authenticated
 * request: a cost that grows with traffic and buys nothing.
 */
export function createTokenKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

export function signToken(claims: TokenClaims, key: KeyObject): string {
  return jwt.sign(
    { sub: claims.userId, sid: claims.sessionId, exp: Math.floor(claims.expiresAt.getTime() / 1000) },
    key,
    { algorithm: ALGORITHM },
  );
}

/** jsonwebtoken's verification, algorithm pinned; the payload object, or null. */
function verifyHs256(token: string, key: KeyObject): Record<string, unknown> | null {
  try {
    const payload = jwt.verify(token, key, { algorithms: [ALGORITHM] });
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function claimsOf(payload: Record<string, unknown>): TokenClaims | null {
  const { sub, sid, exp } = payload;
  if (typeof sub !== 'string' || !OBJECT_ID.test(sub)) return null;
  if (!isSessionId(sid)) return null;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return null;
  return { userId: sub, sessionId: sid, expiresAt: new Date(exp * 1000) };
}

/**
 * Tokens this process has already found valid, per key, oldest first: a
 * client sends the same token on every request, and its signature cannot
 * stop being valid, only the token expire, which is checked again on every
 * use. A bad token is never remembered, so no one can fill this without
 * tokens we signed. Revocation is not decided here (src/auth/authenticate.ts).
 */
const verified = new WeakMap<KeyObject, Map<string, { claims: TokenClaims; exp: number }>>();
const VERIFIED_MAX = 10_000;

/** Returns the claims of a valid token, or null for anything else: never throws. */
export function verifyToken(token: string, key: KeyObject): TokenClaims | null {
  let known = verified.get(key);
  const hit = known?.get(token);
  // The same expiry rule as jsonwebtoken's (`exp` is in force while now < exp).
  if (hit && Math.floor(Date.now() / 1000) < hit.exp) return { ...hit.claims, expiresAt: new Date(hit.exp * 1000) };
  if (hit) known?.delete(token);
  const payload = verifyHs256(token, key);
  const claims = payload === null ? null : claimsOf(payload);
  if (payload === null || claims === null) return null;
  if (!known) verified.set(key, (known = new Map()));
  if (known.size >= VERIFIED_MAX) known.delete(known.keys().next().value!);
  known.set(token, { claims: { ...claims }, exp: payload.exp as number });
  return claims;
}
