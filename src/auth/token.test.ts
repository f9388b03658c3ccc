import { createHmac, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSigningKeys } from './signing-keys.js';
import { createTokenKeys, signToken, verifyToken } from './token.js';

const hs256 = (secret: string) =>
  createTokenKeys(createSigningKeys({ jwtAlgorithm: 'HS256', jwtSecret: secret, jwtPrivateKey: undefined, jwtPreviousPublicKeys: [] }));
const secret = 'a-secret-of-at-least-thirty-two-characters';
const key = hs256(secret);
const claims = { userId: 'a'.repeat(24), sessionId: randomUUID(), expiresAt: new Date(Date.now() + 3600_000) };
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function handMade(header: object, payload: object, key = secret, algorithm = 'sha256'): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(algorithm, key).update(body).digest('base64url')}`;
}

describe('verifyToken()', () => {
  const payload = { sub: claims.userId, sid: claims.sessionId, exp: Math.floor(claims.expiresAt.getTime() / 1000) };

  it('accepts what signToken() signs, with sub, sid and exp', () => {
    const token = signToken(claims, key);
    expect(jwt.decode(token, { complete: true })?.header.alg).toBe('HS256');
    expect(verifyToken(token, key)).toEqual({ ...claims, expiresAt: new Date(Math.floor(claims.expiresAt.getTime() / 1000) * 1000) });
  });

  it('rejects alg none, HS512, a wrong secret, a tampered payload and an expired token', () => {
    expect(verifyToken(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`, key)).toBeNull();
    expect(verifyToken(handMade({ alg: 'HS512', typ: 'JWT' }, payload, secret, 'sha512'), key)).toBeNull();
    expect(verifyToken(signToken(claims, hs256('another-secret-of-thirty-two-characters')), key)).toBeNull();
    const [header, , signature] = signToken(claims, key).split('.');
    expect(verifyToken(`${header}.${b64({ ...payload, sub: 'b'.repeat(24) })}.${signature}`, key)).toBeNull();
    expect(verifyToken(handMade({ alg: 'HS256', typ: 'JWT' }, { ...payload, exp: Math.floor(Date.now() / 1000) - 10 }), key)).toBeNull();
  });

  it('rejects claims of the wrong form: missing exp, non-string sid, malformed sub', () => {
    const header = { alg: 'HS256', typ: 'JWT' };
    expect(verifyToken(handMade(header, { sub: payload.sub, sid: payload.sid }), key)).toBeNull();
    expect(verifyToken(handMade(header, { ...payload, sid: 42 }), key)).toBeNull();
    expect(verifyToken(handMade(header, { ...payload, sid: 'not-a-uuid' }), key)).toBeNull();
    expect(verifyToken(handMade(header, { ...payload, sub: { $ne: null } }), key)).toBeNull();
    expect(verifyToken(handMade(header, payload), key)).not.toBeNull();
  });

  it('returns null, never throws, for garbage', () => {
    for (const garbage of ['', 'a.b.c', 'x'.repeat(5000), '..', 'Bearer']) expect(verifyToken(garbage, key)).toBeNull();
  });
});

describe('verifyToken() and jsonwebtoken agree', () => {
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub: claims.userId, sid: claims.sessionId, exp: now + 3600 };
  const header = { alg: 'HS256', typ: 'JWT' };
  const valid = handMade(header, payload);
  const [h, p, s] = valid.split('.') as [string, string, string];
  const cases: Record<string, string> = {
    valid,
    'no typ': handMade({ alg: 'HS256' }, payload),
    'nbf in the past': handMade(header, { ...payload, nbf: now - 10 }),
    'nbf in the future': handMade(header, { ...payload, nbf: now + 60 }),
    'nbf not a number': handMade(header, { ...payload, nbf: String(now - 10) }),
    'exp now': handMade(header, { ...payload, exp: now }),
    'exp not a number': handMade(header, { ...payload, exp: String(now + 60) }),
    'alg in lower case': handMade({ alg: 'hs256', typ: 'JWT' }, payload),
    'alg missing': handMade({ typ: 'JWT' }, payload),
    'header an array': handMade(['HS256'], payload),
    'payload an array': handMade(header, [payload]),
    'payload not JSON': (() => {
      const body = `${b64(header)}.${Buffer.from('{"sub":').toString('base64url')}`;
      return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    })(),
    'signature missing': `${h}.${p}.`,
    'signature padded': `${h}.${p}.${s}=`,
    'signature in base64 with +/': `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`,
    'signature truncated': `${h}.${p}.${s.slice(0, -1)}`,
    'signature with its last character changed': `${h}.${p}.${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`,
    'a fourth part': `${valid}.x`,
    'a space inside': `${h}.${p} .${s}`,
    'signed as HS512 but says HS256': handMade(header, payload, secret, 'sha512'),
  };

  it.each(Object.keys(cases))('%s', (name) => {
    const token = cases[name]!;
    let accepted: boolean;
    try {
      jwt.verify(token, secret, { algorithms: ['HS256'] });
      accepted = true;
    } catch {
      accepted = false;
    }
    // The claims (sub, sid, exp) are checked on top of what jsonwebtoken checks.
    const claimsOk = !['payload an array', 'exp not a number'].includes(name);
    expect(verifyToken(token, key) !== null).toBe(accepted && claimsOk);
  });
});

describe('verifyToken() on a token it has verified before', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('still refuses it once it has expired', () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const token = signToken({ ...claims, expiresAt: new Date(Date.now() + 2000) }, key);
    expect(verifyToken(token, key)).not.toBeNull();
    expect(verifyToken(token, key)).not.toBeNull();
    vi.setSystemTime(Date.now() + 3000);
    expect(verifyToken(token, key)).toBeNull();
  });

  it('refuses it under another key', () => {
    const token = signToken(claims, key);
    expect(verifyToken(token, key)).not.toBeNull();
    expect(verifyToken(token, hs256('another-secret-of-thirty-two-characters'))).toBeNull();
  });

  it('gives the same claims again, as a copy the caller may keep', () => {
    const token = signToken(claims, key);
    const first = verifyToken(token, key)!;
    const second = verifyToken(token, key)!;
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });
});
