import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRestError, restClient } from './support/rest.js';
import { dropDatabase, startServer, testDatabaseUri, type TestServer } from './support/server.js';

/**
 * Tokens other services verify (docs/operations.md, "Signing keys"): a
 * resource server outside our code (jose) reads our published key set; a key
 * rotation keeps the tokens of the retired key valid while it is listed, and
 * only then.
 */

const privatePem = (key: KeyObject): string => String(key.export({ format: 'pem', type: 'pkcs8' }));
const publicPem = (key: KeyObject): string => String(createPublicKey(key).export({ format: 'pem', type: 'spki' }));
const newKey = (algorithm: 'ES256' | 'EdDSA'): KeyObject =>
  algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('ed25519').privateKey;

/** What a resource server does: fetch our key set (cached, refetched for an unknown kid) and verify, our algorithm pinned. */
async function verifiedElsewhere(server: TestServer, token: string, algorithm: string): Promise<Record<string, unknown> | string> {
  const keySet = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  try {
    return (await jwtVerify(token, keySet, { algorithms: [algorithm] })).payload as Record<string, unknown>;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const me = async (server: TestServer, token: string): Promise<number> => (await restClient(server).get('/api/auth/me', { token })).status;

describe.each(['ES256', 'EdDSA'] as const)('JWT_ALGORITHM=%s', (algorithm) => {
  // One deployment, restarted: the database and Redis outlive each instance.
  const mongoUri = testDatabaseUri();
  const running: TestServer[] = [];
  const start = async (privateKey: KeyObject, previous: KeyObject[] = []): Promise<TestServer> => {
    const env = {
      MONGODB_URI: mongoUri,
      JWT_SECRET: undefined,
      JWT_ALGORITHM: algorithm,
      JWT_PRIVATE_KEY: privatePem(privateKey),
      JWT_PREVIOUS_PUBLIC_KEYS: previous.length > 0 ? previous.map(publicPem).join('') : undefined,
    };
    const server = await startServer({ env });
    running.push(server);
    return server;
  };
  afterAll(async () => {
    for (const server of running) await server.close();
    await dropDatabase(mongoUri);
  });

  it('publishes its keys with cache headers, and a JWKS client verifies its tokens', async () => {
    const server = await start(newKey(algorithm));
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toEqual([expect.objectContaining({ kid: expect.any(String), alg: algorithm, use: 'sig' })]);
    // The public half only.
    expect(keys[0]).not.toHaveProperty('d');
    const head = await fetch(`${server.url}/.well-known/jwks.json`, { method: 'HEAD' });
    expect([head.status, head.headers.get('cache-control'), await head.text()]).toEqual([200, response.headers.get('cache-control'), '']);

    const { token, user, session } = await restClient(server).register();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: algorithm, kid: keys[0]!.kid });
    expect(await verifiedElsewhere(server, token, algorithm)).toMatchObject({ sub: user.id, sid: session.id });
    expect(await me(server, token)).toBe(200);
    // Pinned: a JWKS client told to expect another algorithm refuses it.
    expect(await verifiedElsewhere(server, token, algorithm === 'ES256' ? 'EdDSA' : 'ES256')).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    await server.close();
  });

  it('rotates its key: a retired key still listed verifies, here and through JWKS; once unlisted, its tokens get 401', async () => {
    const [oldKey, newKey_] = [newKey(algorithm), newKey(algorithm)];
    const before = await start(oldKey);
    const { token: oldToken } = await restClient(before).register();
    await before.close();

    // Restarted with a new key, the old one listed as previous.
    const rotated = await start(newKey_, [oldKey]);
    const { keys } = (await (await fetch(`${rotated.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(keys).toHaveLength(2);
    expect(await me(rotated, oldToken)).toBe(200);
    expect(await verifiedElsewhere(rotated, oldToken, algorithm)).toMatchObject({ sub: expect.any(String) });
    const { token: newToken } = await restClient(rotated).register();
    expect(decodeProtectedHeader(newToken).kid).toBe(keys[0]!.kid);
    expect(decodeProtectedHeader(oldToken).kid).toBe(keys[1]!.kid);
    await rotated.close();

    // Restarted once the old key's tokens may have expired: no longer listed, so no longer accepted.
    const after = await start(newKey_);
    expectRestError(await restClient(after).get('/api/auth/me', { token: oldToken }), 401, 'UNAUTHENTICATED');
    expect(await verifiedElsewhere(after, oldToken, algorithm)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(await me(after, newToken)).toBe(200);
    expect(await verifiedElsewhere(after, newToken, algorithm)).toMatchObject({ sub: expect.any(String) });
  });

  it('refuses an HS256 token keyed with its public key (no algorithm confusion)', async () => {
    const key = newKey(algorithm);
    const server = await start(key);
    const { token } = await restClient(server).register();
    const [header, payload] = token.split('.') as [string, string];
    const kid = decodeProtectedHeader(token).kid;
    const forgedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid })).toString('base64url');
    for (const secret of [publicPem(key), JSON.stringify((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as unknown)]) {
      const body = `${forgedHeader}.${payload}`;
      expect(await me(server, `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`)).toBe(401);
    }
    expect(await me(server, `${header}.${payload}.`)).toBe(401);
    await server.close();
  });
});

describe('JWT_ALGORITHM=HS256 (the default)', () => {
  const mongoUri = testDatabaseUri();
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.close();
    await dropDatabase(mongoUri);
  });

  it('publishes an empty key set: nothing verifies its tokens but its own secret', async () => {
    server = await startServer({ env: { MONGODB_URI: mongoUri } });
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(await response.json()).toEqual({ keys: [] });
    const { token } = await restClient(server).register();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    // Refused (an error code, not claims): a key set holds no secret to check an HS256 signature with.
    expect(typeof (await verifiedElsewhere(server, token, 'HS256'))).toBe('string');
  });
});
