import { sign, verify, type KeyObject } from 'node:crypto';

/**
 * EdDSA (Ed25519) JWTs, signed and checked with node:crypto: jsonwebtoken,
 * which handles HS256 and ES256 (src/auth/token.ts), has no EdDSA. Only what
 * our own tokens need, and checked as jsonwebtoken checks the others: the
 * compact form, the algorithm pinned, the key found by `kid`, the signature,
 * then `nbf` and `exp`. test: src/auth/token.test.ts compares it with `jose`.
 */

/** Three base64url parts, none empty: an unsigned token is no EdDSA token. */
const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const SIGNATURE_BYTES = 64;

const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function decodeObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `payload` with `iat` (now) added, as jsonwebtoken adds it: the contract's claims are the same for every algorithm. */
export function signEdDsa(payload: object, key: KeyObject, kid: string): string {
  const body = `${encode({ alg: 'EdDSA', typ: 'JWT', kid })}.${encode({ ...payload, iat: Math.floor(Date.now() / 1000) })}`;
  return `${body}.${sign(null, Buffer.from(body), key).toString('base64url')}`;
}

/** The payload of a valid token whose `kid` names one of `keys`, or null. */
export function verifyEdDsa(token: string, keys: ReadonlyMap<string, KeyObject>, nowSeconds: number): Record<string, unknown> | null {
  const parts = COMPACT.exec(token);
  if (!parts) return null;
  const [, header64, payload64, signature64] = parts as unknown as [string, string, string, string];
  const header = decodeObject(header64);
  // `crit` names extensions a verifier must understand; we understand none.
  if (!header || header.alg !== 'EdDSA' || typeof header.kid !== 'string' || 'crit' in header) return null;
  const key = keys.get(header.kid);
  if (!key) return null;
  const signature = Buffer.from(signature64, 'base64url');
  // One encoding per signature: no second spelling of the same token.
  if (signature.length !== SIGNATURE_BYTES || signature.toString('base64url') !== signature64) return null;
  if (!verify(null, Buffer.from(`${header64}.${payload64}`), key, signature)) return null;
  const payload = decodeObject(payload64);
  if (!payload) return null;
  // jsonwebtoken's rules: `nbf`, when present, a number not after now; `exp` in force while now < exp.
  if ('nbf' in payload && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds)) return null;
  if (typeof payload.exp !== 'number' || nowSeconds >= payload.exp) return null;
  return payload;
}
