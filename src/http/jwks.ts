import type { SigningKeys } from '../auth/signing-keys.js';
import { jsonReply, type JsonReply } from './responses.js';

/**
 * How long a verifier may keep the key set. A new key (JWT_PRIVATE_KEY) is
 * published as it starts signing, so a verifier that caches the set meets an
 * unknown `kid` and must fetch again (jose's createRemoteJWKSet does, at most
 * every 30 s); a retired key stays listed as long as its tokens live. Five
 * minutes bounds how long a verifier keeps a key removed from the list.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * GET /.well-known/jwks.json: the public keys tokens are verified with, current
 * first. HS256 has none to publish (its secret verifies), so the set is empty:
 * the same answer, 200 `{"keys": []}`, whatever the algorithm, and a verifier
 * pointed at an HS256 deployment refuses every token instead of failing to fetch.
 * Built once: the keys do not change while the process runs.
 */
export function jwksReply(keys: Pick<SigningKeys, 'jwks'>): JsonReply {
  return jsonReply(200, keys.jwks, {
    'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
    'content-type': 'application/jwk-set+json; charset=utf-8',
  });
}
