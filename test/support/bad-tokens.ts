import { createHmac, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TEST_JWT_SECRET } from './server.js';

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function hmac(header: object, payload: object, algorithm: string, secret = TEST_JWT_SECRET): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(algorithm, secret).update(body).digest('base64url')}`;
}

/**
 * Every way a token can be wrong, made for one real session (so that only the
 * named defect makes it bad), each with a name for the test report.
 */
export function badTokens(victim: { token: string; user: { id: string }; session: { id: string } }): Array<[string, string]> {
  const claims = { sub: victim.user.id, sid: victim.session.id, exp: Math.floor(Date.now() / 1000) + 600 };
  const hs256 = (payload: object): string => jwt.sign(payload, TEST_JWT_SECRET, { algorithm: 'HS256' });
  const [header, , signature] = victim.token.split('.');
  return [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    ['HS512', hmac({ alg: 'HS512', typ: 'JWT' }, claims, 'sha512')],
    ['HS384', hmac({ alg: 'HS384', typ: 'JWT' }, claims, 'sha384')],
    ['wrong secret', hmac({ alg: 'HS256', typ: 'JWT' }, claims, 'sha256', 'not-the-secret-not-the-secret-not')],
    ['expired', hs256({ ...claims, exp: Math.floor(Date.now() / 1000) - 1 })],
    ['no exp', hmac({ alg: 'HS256', typ: 'JWT' }, { sub: claims.sub, sid: claims.sid }, 'sha256')],
    ['tampered payload', `${header}.${b64({ ...claims, sub: 'f'.repeat(24) })}.${signature}`],
    ['unknown sid', hs256({ ...claims, sid: randomUUID() })],
    ['another user id', hs256({ ...claims, sub: 'f'.repeat(24) })],
    ['malformed sid', hs256({ ...claims, sid: { $ne: null } })],
    ['numeric sid', hs256({ ...claims, sid: 42 })],
    ['garbage', 'not.a.token'],
    ['huge', 'x'.repeat(8000)],
  ];
}
