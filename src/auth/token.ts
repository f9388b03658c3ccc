import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
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
 * jsonwebtoken turns it into a key on every call (≈350 µs per verify measured
 * here, against ≈7 µs with a KeyObject): that alone capped the server near
 * 2.8k authenticated requests a second on one core.
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

// Three base64url parts, none empty: a token without a signature is refused here.
const COMPACT_JWS = /^([\w-]+)\.([\w-]+)\.([\w-]+)$/;

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The HS256 verification jsonwebtoken does for `jwt.verify(token, key, {
 * algorithms: ['HS256'] })`, without its generality: it decoded the token
 * twice, re-split it four times and checked key types on every call, about
 * a tenth of an authenticated read's CPU time (measured). Same rules: the
 * header's `alg` must be HS256, the signature is compared in constant time,
 * `nbf` and `exp` (when present) must be numbers and in force. Returns the
 * payload, or null.
 */
function verifyHs256(token: string, key: KeyObject): Record<string, unknown> | null {
  const parts = COMPACT_JWS.exec(token);
  if (!parts) return null;
  const [, header, payload, signature] = parts as unknown as [string, string, string, string];
  // The signature's text is compared, as jsonwebtoken does: decoding it first would let stray trailing bits through.
  const expected = Buffer.from(createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (parseJsonObject(Buffer.from(header, 'base64url').toString('latin1'))?.alg !== ALGORITHM) return null;
  const claims = parseJsonObject(Buffer.from(payload, 'base64url').toString('utf8'));
  if (!claims) return null;
  const now = Math.floor(Date.now() / 1000);
  const { nbf, exp } = claims;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return null;
  if (exp !== undefined && (typeof exp !== 'number' || now >= exp)) return null;
  return claims;
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
  // The same expiry rule as verifyHs256's.
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
