import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDurationSeconds } from './config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig()', () => {
  it('has the documented development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3001,
      nodeEnv: 'development',
      jwtExpiresInSeconds: 7 * 86400,
      accessTokenTtlSeconds: 7 * 86400,
      sessionIdleTimeoutMs: 30 * 86_400_000,
      sessionMaxAgeMs: 180 * 86_400_000,
      refreshReuseGraceMs: 10_000,
      freshAgeMs: undefined,
      mongodbUri: undefined,
      redisUrl: undefined,
      bcryptRounds: 10,
      passwordQueueLimit: 64,
      corsOrigins: ['*'],
      sseHeartbeatMs: 15000,
      securityEventsRetentionSeconds: 90 * 86400,
      jwtSecretGenerated: true,
      rateLimit: { windowMs: 15 * 60_000, perAccountAddress: 5, perAccount: 20, perIp: 100 },
      graphiql: true,
      introspection: true,
    });
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}).jwtSecret).not.toBe(config.jwtSecret);
  });

  it('reads ACCESS_TOKEN_TTL, and JWT_EXPIRES_IN as its old name; the session lifetimes as durations', () => {
    expect(loadConfig({ JWT_EXPIRES_IN: '12h' }).accessTokenTtlSeconds).toBe(43200);
    expect(loadConfig({ JWT_EXPIRES_IN: '12h', ACCESS_TOKEN_TTL: '15m' }).accessTokenTtlSeconds).toBe(900);
    expect(loadConfig({ SESSION_IDLE_TIMEOUT: '3', SESSION_MAX_AGE: '30d', FRESH_AGE: '10m', REFRESH_REUSE_GRACE: '2s' })).toMatchObject({
      sessionIdleTimeoutMs: 3000,
      sessionMaxAgeMs: 30 * 86_400_000,
      freshAgeMs: 600_000,
      refreshReuseGraceMs: 2000,
    });
    expect(problems({ ACCESS_TOKEN_TTL: 'soon', FRESH_AGE: '0' })).toEqual([
      'ACCESS_TOKEN_TTL: must be a duration such as 7d, 15m or 900 (got "soon")',
      'FRESH_AGE: must be a duration such as 10m or 600 (got "0")',
    ]);
  });

  it('requires every dependency and a long secret in production, one line per variable', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      'JWT_SECRET: required in production (at least 32 characters)',
      'MONGODB_URI: required in production',
      'REDIS_URL: required in production (or REDIS_CLUSTER_NODES for a Redis Cluster)',
    ]);
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: 'short', MONGODB_URI: 'mongodb://db/x', REDIS_URL: 'redis://r' })).toEqual([
      'JWT_SECRET: must be at least 32 characters in production (got 5)',
    ]);
  });

  it('reads REDIS_CLUSTER_NODES as a Redis Cluster in place of REDIS_URL, each node host:port or a redis(s):// URL', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), MONGODB_URI: 'mongodb://db/x' };
    expect(loadConfig({ ...production, REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' })).toMatchObject({
      redisUrl: undefined,
      redisCluster: {
        nodes: [
          { host: 'redis-1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: '::1', port: 7002 },
        ],
        tls: false,
        username: undefined,
        password: undefined,
      },
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@clustercfg.example.cache.amazonaws.com:6379' }).redisCluster).toEqual({
      nodes: [{ host: 'clustercfg.example.cache.amazonaws.com', port: 6379 }],
      tls: true,
      username: 'app',
      password: 's@cret',
    });
    expect(loadConfig({}).redisCluster).toBeUndefined();
  });

  it('reads REDIS_TLS_CA_FILE as the PEM it holds, and names a file it cannot use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'la-config-'));
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      writeFileSync(join(dir, 'ca.pem'), pem);
      writeFileSync(join(dir, 'empty.pem'), 'not a certificate\n');
      expect(loadConfig({ REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }).redisTlsCa).toBe(pem);
      expect(problems({ REDIS_TLS_CA_FILE: join(dir, 'missing.pem') })).toEqual([`REDIS_TLS_CA_FILE: cannot read ${join(dir, 'missing.pem')} (ENOENT)`]);
      expect(problems({ REDIS_TLS_CA_FILE: join(dir, 'empty.pem') })).toEqual([
        `REDIS_TLS_CA_FILE: ${join(dir, 'empty.pem')} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names each bad REDIS_CLUSTER_NODES entry, and refuses it beside REDIS_URL', () => {
    expect(problems({ REDIS_CLUSTER_NODES: 'redis-1:7000,redis-2,redis-3:99999,http://x:1,redis://r:1/2' })).toEqual([
      'REDIS_CLUSTER_NODES: each node must be host:port, or a redis:// or rediss:// URL with a port (bad: redis-2, redis-3:99999, http://x:1, redis://r:1/2)',
    ]);
    expect(problems({ REDIS_CLUSTER_NODES: ' , ' })).toEqual(['REDIS_CLUSTER_NODES: must list at least one node as host:port']);
    expect(problems({ REDIS_CLUSTER_NODES: 'rediss://a:1,redis://b:2' })).toEqual(['REDIS_CLUSTER_NODES: every node must be rediss:// (TLS) or none']);
    expect(problems({ REDIS_CLUSTER_NODES: 'redis://:one@a:1,redis://:two@b:2' })).toEqual(['REDIS_CLUSTER_NODES: every node must carry the same credentials']);
    expect(problems({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000' })).toEqual([
      'REDIS_CLUSTER_NODES: set REDIS_URL or REDIS_CLUSTER_NODES, not both',
    ]);
  });

  it('turns GraphiQL and introspection off in production unless GRAPHIQL and INTROSPECTION say so', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), MONGODB_URI: 'mongodb://db/x', REDIS_URL: 'redis://r' };
    expect(loadConfig(production)).toMatchObject({ graphiql: false, introspection: false });
    expect(loadConfig({ ...production, GRAPHIQL: 'true', INTROSPECTION: 'yes' })).toMatchObject({ graphiql: true, introspection: true });
    expect(problems({ GRAPHIQL: 'maybe' })).toEqual(['GRAPHIQL: must be true or false (got "maybe")']);
  });

  it('reads TRUST_PROXY as a number of proxies: true is one, false or unset none', () => {
    expect(loadConfig({}).trustProxy).toBe(0);
    expect([loadConfig({ TRUST_PROXY: 'true' }), loadConfig({ TRUST_PROXY: 'false' }), loadConfig({ TRUST_PROXY: '2' })].map((c) => c.trustProxy)).toEqual([1, 0, 2]);
    expect(problems({ TRUST_PROXY: 'all' })).toEqual(['TRUST_PROXY: must be true, false or a number of proxies from 0 to 10 (got "all")']);
    expect(problems({ TRUST_PROXY: '11' })).toEqual(['TRUST_PROXY: must be true, false or a number of proxies from 0 to 10 (got "11")']);
  });

  it('names each bad variable', () => {
    const lines = problems({
      PORT: 'abc',
      JWT_EXPIRES_IN: 'forever',
      MONGODB_URI: 'not a uri',
      REDIS_URL: 'http://x',
      BCRYPT_ROUNDS: '99',
      PASSWORD_THREADS: 'many',
      PASSWORD_QUEUE_LIMIT: '-1',
      CORS_ORIGINS: 'ftp://x',
      SSE_HEARTBEAT_MS: '-1',
      SECURITY_EVENTS_RETENTION: 'forever',
      NODE_ENV: 'staging',
    });
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      'NODE_ENV',
      'PORT',
      'JWT_EXPIRES_IN',
      'MONGODB_URI',
      'REDIS_URL',
      'BCRYPT_ROUNDS',
      'PASSWORD_THREADS',
      'PASSWORD_QUEUE_LIMIT',
      'CORS_ORIGINS',
      'SSE_HEARTBEAT_MS',
      'SECURITY_EVENTS_RETENTION',
    ]);
  });

  it('reads the admin keys and the webhook settings, and refuses what would not work', () => {
    const secret = Buffer.alloc(32, 7);
    const config = loadConfig({
      ADMIN_API_KEYS: ` ${'k'.repeat(32)} ,${'m'.repeat(40)}`,
      WEBHOOK_URL: 'https://a.example/hook, http://127.0.0.1:9000/b',
      WEBHOOK_SECRET: `whsec_${secret.toString('base64')}`,
    });
    expect(config.adminApiKeys).toEqual(['k'.repeat(32), 'm'.repeat(40)]);
    expect(config.webhookUrls).toEqual(['https://a.example/hook', 'http://127.0.0.1:9000/b']);
    expect(config.webhookSecret).toEqual(secret);
    expect(loadConfig({})).toMatchObject({ adminApiKeys: [], webhookUrls: [], webhookSecret: undefined, webhookRetryBaseMs: 5000 });
    expect(problems({ ADMIN_API_KEYS: 'short' })).toEqual(['ADMIN_API_KEYS: each key must be at least 32 characters']);
    expect(problems({ WEBHOOK_URL: 'ftp://x.example' })[0]).toMatch(/^WEBHOOK_URL: each URL must be http/);
    expect(problems({ WEBHOOK_URL: 'https://a.example' })).toEqual(['WEBHOOK_SECRET: required with WEBHOOK_URL']);
    expect(problems({ WEBHOOK_SECRET: secret.toString('base64') })[0]).toMatch(/^WEBHOOK_SECRET: must be whsec_/);
    expect(problems({ WEBHOOK_SECRET: 'whsec_AAAA' })[0]).toMatch(/^WEBHOOK_SECRET: must hold 24 to 64 bytes/);
  });

  it('accepts a full production environment', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '8080',
      JWT_SECRET: 'x'.repeat(32),
      JWT_EXPIRES_IN: '12h',
      MONGODB_URI: 'mongodb://mongo:27017/logout-all',
      REDIS_URL: 'redis://redis:6379',
      SERVER_ID: 'api-1',
      CORS_ORIGINS: 'https://app.example.com, https://admin.example.com/',
      SECURITY_EVENTS_RETENTION: '30d',
    });
    expect(config).toMatchObject({
      securityEventsRetentionSeconds: 30 * 86400,
      port: 8080,
      jwtExpiresInSeconds: 43200,
      serverId: 'api-1',
      corsOrigins: ['https://app.example.com', 'https://admin.example.com'],
      jwtSecretGenerated: false,
    });
  });
});

describe('loadConfig(): signing keys', () => {
  const production = { NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/x', REDIS_URL: 'redis://r' };
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed25519 = generateKeyPairSync('ed25519');
  const privatePem = (key: KeyObject): string => String(key.export({ format: 'pem', type: 'pkcs8' }));
  const publicPem = (key: KeyObject): string => String(key.export({ format: 'pem', type: 'spki' }));

  it('defaults to HS256 with JWT_SECRET, and refuses the key settings there', () => {
    expect(loadConfig({}).jwtAlgorithm).toBe('HS256');
    expect(problems({ JWT_PRIVATE_KEY: privatePem(p256.privateKey), JWT_PREVIOUS_PUBLIC_KEYS: publicPem(p256.publicKey) })).toEqual([
      'JWT_PRIVATE_KEY: is not used with JWT_ALGORITHM=HS256 (set JWT_ALGORITHM=ES256 or EdDSA, or unset it)',
      'JWT_PREVIOUS_PUBLIC_KEYS: is not used with JWT_ALGORITHM=HS256 (set JWT_ALGORITHM=ES256 or EdDSA, or unset it)',
    ]);
    // A wrong algorithm is the one problem: the keys meant for the right one are not reported too.
    expect(problems({ JWT_ALGORITHM: 'ES384', JWT_PRIVATE_KEY: privatePem(p256.privateKey) })).toEqual([
      'JWT_ALGORITHM: must be HS256, ES256, EdDSA (got "ES384")',
    ]);
    expect(problems({ NODE_ENV: 'production', JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'nonsense', MONGODB_URI: 'mongodb://db/x', REDIS_URL: 'redis://r' })).toEqual([
      'JWT_ALGORITHM: must be HS256, ES256, EdDSA (got "RS256")',
      'JWT_PRIVATE_KEY: must be a PEM private key (-----BEGIN PRIVATE KEY-----)',
    ]);
  });

  it('needs JWT_PRIVATE_KEY, not JWT_SECRET, in production with ES256 or EdDSA', () => {
    expect(problems({ ...production, JWT_ALGORITHM: 'ES256' })).toEqual([
      'JWT_PRIVATE_KEY: required in production with JWT_ALGORITHM=ES256 (a PEM private key)',
    ]);
    expect(problems({ ...production, JWT_ALGORITHM: 'EdDSA', JWT_SECRET: 'x'.repeat(32), JWT_PRIVATE_KEY: privatePem(ed25519.privateKey) })).toEqual([
      'JWT_SECRET: is not used with JWT_ALGORITHM=EdDSA (tokens are signed with JWT_PRIVATE_KEY): unset it',
    ]);
    const config = loadConfig({ ...production, JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: privatePem(ed25519.privateKey) });
    expect(config).toMatchObject({ jwtAlgorithm: 'EdDSA', jwtSecretGenerated: false });
    // The server's own secret comes from the key: the same on every instance.
    expect(loadConfig({ ...production, JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: privatePem(ed25519.privateKey) }).jwtSecret).toBe(config.jwtSecret);
  });

  it('reports a key of the wrong kind, and an unreadable one, on its own line', () => {
    expect(
      problems({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: privatePem(ed25519.privateKey), JWT_PREVIOUS_PUBLIC_KEYS: 'not a pem' }),
    ).toEqual([
      'JWT_PRIVATE_KEY: is an ed25519 key; JWT_ALGORITHM=ES256 needs an EC P-256 key',
      'JWT_PREVIOUS_PUBLIC_KEYS: must be one or more PEM public keys (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)',
    ]);
  });

  it('generates a key for the process outside production', () => {
    const config = loadConfig({ JWT_ALGORITHM: 'ES256' });
    expect(config.jwtSecretGenerated).toBe(true);
    expect(config.jwtPrivateKey?.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });
});

describe('parseDurationSeconds()', () => {
  it.each([
    ['7d', 604800],
    ['12h', 43200],
    ['30m', 1800],
    ['45s', 45],
    ['3600', 3600],
    ['0', null],
    ['1w', null],
    ['', null],
  ])('%s → %s', (input, expected) => {
    expect(parseDurationSeconds(input)).toBe(expected);
  });
});
