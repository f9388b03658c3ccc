import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createSigningKeys, parsePrivateKey, parsePublicKeys, thumbprint, type JwtAlgorithm } from './signing-keys.js';
import { createTokenKeys, signToken, verifyToken, type TokenKeys } from './token.js';

const claims = { userId: 'a'.repeat(24), sessionId: randomUUID(), expiresAt: new Date(Date.now() + 3600_000) };
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const newKey = (algorithm: 'ES256' | 'EdDSA'): KeyObject =>
  algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('ed25519').privateKey;

function keysOf(algorithm: 'ES256' | 'EdDSA', privateKey: KeyObject, previous: KeyObject[] = []): TokenKeys {
  return createTokenKeys(createSigningKeys({ jwtAlgorithm: algorithm, jwtSecret: 'x', jwtPrivateKey: privateKey, jwtPreviousPublicKeys: previous }));
}

const pem = (key: KeyObject): string =>
  String(key.type === 'private' ? key.export({ format: 'pem', type: 'pkcs8' }) : key.export({ format: 'pem', type: 'spki' }));

describe.each(['ES256', 'EdDSA'] as const)('%s tokens', (algorithm) => {
  const current = newKey(algorithm);
  const retired = newKey(algorithm);
  const keys = keysOf(algorithm, current, [createPublicKey(retired)]);

  it('are signed with the kid of the current key (its RFC 7638 thumbprint), which the key set publishes', async () => {
    const token = signToken(claims, keys);
    const { header } = jwt.decode(token, { complete: true })!;
    expect(header).toMatchObject({ alg: algorithm, kid: thumbprint(createPublicKey(current)) });
    expect(keys.jwks.keys.map((k) => k.kid)).toEqual([thumbprint(createPublicKey(current)), thumbprint(createPublicKey(retired))]);
    for (const jwk of keys.jwks.keys) {
      expect(jwk).toMatchObject({ alg: algorithm, use: 'sig' });
      // RFC 7638, as another implementation computes it from the published key.
      expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk));
    }
    expect(JSON.stringify(keys.jwks)).not.toMatch(/"d"/);
    // A verifier outside our code, given only the published set, accepts it.
    const verified = await jwtVerify(token, createLocalJWKSet(keys.jwks), { algorithms: [algorithm] });
    expect(Object.keys(verified.payload).sort()).toEqual(['exp', 'iat', 'sid', 'sub']);
    expect(verified.payload).toMatchObject({ sub: claims.userId, sid: claims.sessionId });
    expect(verifyToken(token, keys)).toMatchObject({ userId: claims.userId, sessionId: claims.sessionId });
  });

  it('are accepted when signed with a retired key still listed, refused once it is not', () => {
    const old = signToken(claims, keysOf(algorithm, retired));
    expect(verifyToken(old, keys)).not.toBeNull();
    expect(verifyToken(old, keysOf(algorithm, current))).toBeNull();
  });

  it('are refused with an unknown, missing or altered kid', () => {
    const token = signToken(claims, keys);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    expect(verifyToken(signToken(claims, keysOf(algorithm, newKey(algorithm))), keys)).toBeNull();
    expect(verifyToken(`${b64({ ...decoded, kid: undefined })}.${payload}.${signature}`, keys)).toBeNull();
    expect(verifyToken(`${b64({ ...decoded, kid: thumbprint(createPublicKey(retired)) })}.${payload}.${signature}`, keys)).toBeNull();
  });

  it('pin the algorithm: HS256 keyed with the public key, alg none, and the other asymmetric algorithm are refused', () => {
    const kid = thumbprint(createPublicKey(current));
    const payload = b64({ sub: claims.userId, sid: claims.sessionId, exp: Math.floor(Date.now() / 1000) + 3600 });
    const confused = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${payload}`;
    for (const secret of [pem(createPublicKey(current)), JSON.stringify(keys.jwks.keys[0])]) {
      expect(verifyToken(`${confused}.${createHmac('sha256', secret).update(confused).digest('base64url')}`, keys)).toBeNull();
    }
    expect(verifyToken(`${b64({ alg: 'none', kid })}.${payload}.`, keys)).toBeNull();
    const other = algorithm === 'ES256' ? 'EdDSA' : 'ES256';
    const otherKey = newKey(other);
    expect(verifyToken(signToken(claims, keysOf(other, otherKey)), keysOf(algorithm, current, [createPublicKey(otherKey)]))).toBeNull();
    // An HS256 deployment refuses them too, whatever its secret.
    const hs256 = createTokenKeys(createSigningKeys({ jwtAlgorithm: 'HS256', jwtSecret: pem(createPublicKey(current)), jwtPrivateKey: undefined, jwtPreviousPublicKeys: [] }));
    expect(verifyToken(signToken(claims, keys), hs256)).toBeNull();
  });
});

describe('EdDSA verification agrees with jose', () => {
  const privateKey = newKey('EdDSA');
  const keys = keysOf('EdDSA', privateKey);
  const kid = thumbprint(createPublicKey(privateKey));
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub: claims.userId, sid: claims.sessionId, exp: now + 3600 };
  const header = { alg: 'EdDSA', typ: 'JWT', kid };
  const handMade = (h: unknown, p: unknown, encode = b64): string => {
    const body = `${encode(h)}.${encode(p)}`;
    return `${body}.${sign(null, Buffer.from(body), privateKey).toString('base64url')}`;
  };
  const valid = handMade(header, payload);
  const [h, p, s] = valid.split('.') as [string, string, string];
  const cases: Record<string, string> = {
    valid,
    'no typ': handMade({ alg: 'EdDSA', kid }, payload),
    'nbf in the past': handMade(header, { ...payload, nbf: now - 10 }),
    'nbf in the future': handMade(header, { ...payload, nbf: now + 60 }),
    'nbf not a number': handMade(header, { ...payload, nbf: String(now - 10) }),
    'exp now': handMade(header, { ...payload, exp: now }),
    'exp in the past': handMade(header, { ...payload, exp: now - 10 }),
    'exp not a number': handMade(header, { ...payload, exp: String(now + 60) }),
    'alg in lower case': handMade({ ...header, alg: 'eddsa' }, payload),
    'alg Ed25519': handMade({ ...header, alg: 'Ed25519' }, payload),
    'alg missing': handMade({ typ: 'JWT', kid }, payload),
    'crit header': handMade({ ...header, crit: ['exp'] }, payload),
    'header an array': handMade([header], payload),
    'payload an array': handMade(header, [payload]),
    'payload not JSON': handMade(header, payload, (v) => (v === payload ? Buffer.from('{"sub":').toString('base64url') : b64(v))),
    'signature missing': `${h}.${p}.`,
    'signature truncated': `${h}.${p}.${s.slice(0, -2)}`,
    'signature with its last character changed': `${h}.${p}.${s.slice(0, -1)}${s.endsWith('A') ? 'Q' : 'A'}`,
    'signature of another payload': `${h}.${b64({ ...payload, sub: 'b'.repeat(24) })}.${s}`,
    'a fourth part': `${valid}.x`,
    'a space inside': `${h}.${p} .${s}`,
  };

  it.each(Object.keys(cases))('%s', async (name) => {
    const token = cases[name]!;
    const accepted = await jwtVerify(token, createLocalJWKSet(keys.jwks), { algorithms: ['EdDSA'] }).then(
      () => true,
      () => false,
    );
    expect(verifyToken(token, keys) !== null).toBe(accepted);
  });
});

describe('the key settings', () => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');

  it('read a PEM private key of the algorithm kind, with real newlines or \\n escapes', () => {
    const text = pem(p256.privateKey);
    for (const raw of [text, text.replace(/\n/g, '\\n'), String(p256.privateKey.export({ format: 'pem', type: 'sec1' }))]) {
      const key = parsePrivateKey(raw, 'ES256');
      expect(typeof key === 'string' ? key : thumbprint(createPublicKey(key))).toBe(thumbprint(p256.publicKey));
    }
  });

  it('say what is wrong with a key, once', () => {
    const problems: Array<[string | KeyObject | KeyObject[], string | RegExp]> = [
      [parsePrivateKey(pem(ed.privateKey), 'ES256'), 'is an ed25519 key; JWT_ALGORITHM=ES256 needs an EC P-256 key'],
      [parsePrivateKey(pem(p384.privateKey), 'ES256'), 'is an ec secp384r1 key; JWT_ALGORITHM=ES256 needs an EC P-256 key'],
      [parsePrivateKey(pem(p256.privateKey), 'EdDSA'), 'is an ec P-256 key; JWT_ALGORITHM=EdDSA needs an Ed25519 key'],
      [parsePrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', 'EdDSA'), /cannot be read as a PEM private key/],
      [parsePrivateKey('secret', 'EdDSA'), /must be a PEM private key/],
      [parsePrivateKey(pem(p256.privateKey), 'HS256'), /not used with JWT_ALGORITHM=HS256/],
      [parsePublicKeys(`${pem(p256.publicKey)}${pem(p384.publicKey)}`, 'ES256'), 'key 2 of 2 is an ec secp384r1 key; JWT_ALGORITHM=ES256 needs an EC P-256 key'],
      [parsePublicKeys(pem(p256.privateKey), 'ES256'), /key 1 of 1 is a PRIVATE KEY, not a PUBLIC KEY/],
      [parsePublicKeys('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'ES256'), 'key 1 of 1 cannot be read as a PEM public key'],
      [parsePublicKeys('nothing', 'EdDSA'), /must be one or more PEM public keys/],
    ];
    for (const [problem, expected] of problems) expect(problem).toMatch(expected);
  });

  it('read several public keys from one value, concatenated', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys = parsePublicKeys(`${pem(p256.publicKey)}\n${pem(other.publicKey)}`.replace(/\n/g, '\\n'), 'ES256' as JwtAlgorithm);
    expect(Array.isArray(keys) && keys.map(thumbprint)).toEqual([thumbprint(p256.publicKey), thumbprint(other.publicKey)]);
  });
});
