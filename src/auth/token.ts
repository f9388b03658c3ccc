import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { signEdDsa, verifyEdDsa } from './eddsa-jws.js';
import type { SigningKeys } from './signing-keys.js';
import { isSessionId } from './validation.js';

/** What a verified token says: who, and through which session. */
export interface TokenClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

const OBJECT_ID = /^[0-9a-f]{24}$/;

/**
 * The deployment's keys (src/auth/signing-keys.ts), made once per process
 * (src/services.ts), with the tokens already found valid under them (`verified`,
 * below). Key objects, not PEM or secret strings: handed a string, jsonwebtoken
 * turns it into a key on every call, on every authenticated request. The algorithm is pinned: a token signed with any other (none, HS384,
 * HS256 where ES256 is configured, with a public key as its secret...) is
 * rejected before its claims are read.
 */
export interface TokenKeys extends SigningKeys {
  readonly verified: Map<string, { claims: TokenClaims; exp: number }>;
}

export function createTokenKeys(keys: SigningKeys): TokenKeys {
  return { ...keys, verified: new Map() };
}

export function signToken(claims: TokenClaims, keys: TokenKeys): string {
  const payload = { sub: claims.userId, sid: claims.sessionId, exp: Math.floor(claims.expiresAt.getTime() / 1000) };
  const { key, kid } = keys.signing;
  if (keys.algorithm === 'EdDSA') return signEdDsa(payload, key, kid!);
  return jwt.sign(payload, key, { algorithm: keys.algorithm, ...(kid === undefined ? {} : { keyid: kid }) });
}

/** The key a token's `kid` names (the one secret, for HS256): unknown or absent, none. */
function keyFor(token: string, keys: TokenKeys): KeyObject | undefined {
  if (keys.algorithm === 'HS256') return keys.signing.key;
  const kid = jwt.decode(token, { complete: true })?.header.kid;
  return kid === undefined ? undefined : keys.verifying.get(kid);
}

/** The signature and time claims checked, algorithm pinned; the payload object, or null. */
function verifySigned(token: string, keys: TokenKeys): Record<string, unknown> | null {
  if (keys.algorithm === 'EdDSA') return verifyEdDsa(token, keys.verifying, Math.floor(Date.now() / 1000));
  try {
    const key = keyFor(token, keys);
    if (!key) return null;
    const payload = jwt.verify(token, key, { algorithms: [keys.algorithm] });
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
 * `keys.verified`: tokens already found valid under these keys, oldest first:
 * a client sends the same token on every request, and its signature cannot
 * stop being valid, only the token expire, which is checked again on every
 * use. A bad token is never remembered, so no one can fill this without
 * tokens we signed. Revocation is not decided here (src/auth/authenticate.ts).
 */
const VERIFIED_MAX = 10_000;

/** Returns the claims of a valid token, or null for anything else: never throws. */
export function verifyToken(token: string, keys: TokenKeys): TokenClaims | null {
  const known = keys.verified;
  const hit = known.get(token);
  // The same expiry rule as jsonwebtoken's (`exp` is in force while now < exp).
  if (hit && Math.floor(Date.now() / 1000) < hit.exp) return { ...hit.claims, expiresAt: new Date(hit.exp * 1000) };
  if (hit) known.delete(token);
  const payload = verifySigned(token, keys);
  const claims = payload === null ? null : claimsOf(payload);
  if (payload === null || claims === null) return null;
  if (known.size >= VERIFIED_MAX) known.delete(known.keys().next().value!);
  known.set(token, { claims: { ...claims }, exp: payload.exp as number });
  return claims;
}
