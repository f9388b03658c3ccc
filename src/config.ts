import { randomBytes, type KeyObject } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import {
  adminKeys,
  boolean,
  duration,
  integer,
  Invalid,
  isUrlWithScheme,
  milliseconds,
  oneOf,
  parseClusterNodes,
  parseInteger,
  pemCertificates,
  url,
  webhookSecret,
  webhookUrls,
  type RedisClusterConfig,
} from './config-parsers.js';
import { deriveServerSecret, generatePrivateKey, JWT_ALGORITHMS, parsePrivateKey, parsePublicKeys, type JwtAlgorithm } from './auth/signing-keys.js';

export { parseDurationSeconds, type RedisClusterConfig } from './config-parsers.js';

/** Thrown when the environment is unusable; each line names one variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** What a setting's parse and default may depend on. */
interface Mode {
  nodeEnv: NodeEnv;
  production: boolean;
  /** JWT_ALGORITHM, read first: which of the key settings apply (null when it is itself wrong: then only their own form is checked). */
  jwtAlgorithm: JwtAlgorithm | null;
}

/** One environment variable: how to read it, what it is when unset, and whether production insists on it. */
interface Setting<T> {
  name: string;
  parse: (raw: string, mode: Mode) => T | Invalid;
  default: (mode: Mode) => T;
  /** The problem reported when it is unset in production (if any, for this mode); absent: optional everywhere. */
  requiredInProduction?: string | ((mode: Mode) => string | undefined);
}

/** A row of the table, its value's type inferred from `parse` and `default`. */
const setting = <T>(row: Setting<T>): Setting<T> => row;
type ValueOf<S> = S extends Setting<infer T> ? T : never;

type NodeEnv = 'development' | 'production' | 'test';

const NODE_ENV: Setting<NodeEnv> = {
  name: 'NODE_ENV',
  parse: oneOf(['development', 'production', 'test'], 'development, production or test'),
  default: () => 'development',
};

const JWT_ALGORITHM: Setting<JwtAlgorithm> = {
  name: 'JWT_ALGORITHM',
  parse: oneOf(JWT_ALGORITHMS, JWT_ALGORITHMS.join(', ')),
  default: () => 'HS256',
};

/** A key setting's parse: the key(s), or its one problem. */
const keyParse =
  <T>(parse: (raw: string, algorithm: JwtAlgorithm | 'any') => T | string) =>
  (raw: string, { jwtAlgorithm }: Mode): T | Invalid => {
    const parsed = parse(raw, jwtAlgorithm ?? 'any');
    return typeof parsed === 'string' ? new Invalid(parsed) : parsed;
  };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The configuration, one row per variable (after NODE_ENV, in the order their
 * problems are reported): the one place a setting is declared. The Config type
 * is derived from it, and docs/operations.md documents every row (a test
 * checks that it does).
 */
const SETTINGS = {
  port: setting({ name: 'PORT', parse: integer(0, 65535), default: () => 3001 }),
  // Prometheus' /metrics on a port of its own, so that it is never public by accident: off when unset.
  metricsPort: setting<number | undefined>({ name: 'METRICS_PORT', parse: integer(0, 65535), default: () => undefined }),
  jwtSecret: setting({
    name: 'JWT_SECRET',
    parse: (raw, { production, jwtAlgorithm }) => {
      // Left set after a switch to a private key, it would look like it still mattered.
      if (jwtAlgorithm !== 'HS256' && jwtAlgorithm !== null) return new Invalid(`is not used with JWT_ALGORITHM=${jwtAlgorithm} (tokens are signed with JWT_PRIVATE_KEY): unset it`);
      return production && raw.length < 32 ? new Invalid(`must be at least 32 characters in production (got ${raw.length})`) : raw;
    },
    // Unset outside production: a random secret for this process (loadConfig generates it).
    default: () => undefined,
    requiredInProduction: ({ jwtAlgorithm }) => (jwtAlgorithm === 'HS256' ? 'required in production (at least 32 characters)' : undefined),
  }),
  // ES256 or EdDSA: the key tokens are signed with; unset outside production, one is generated for the process (loadConfig).
  jwtPrivateKey: setting<KeyObject | undefined>({
    name: 'JWT_PRIVATE_KEY',
    parse: keyParse(parsePrivateKey),
    default: () => undefined,
    requiredInProduction: ({ jwtAlgorithm }) => (jwtAlgorithm === 'HS256' || jwtAlgorithm === null ? undefined : `required in production with JWT_ALGORITHM=${jwtAlgorithm} (a PEM private key)`),
  }),
  // Retired keys whose tokens are still accepted (and published) while they are listed.
  jwtPreviousPublicKeys: setting<KeyObject[]>({ name: 'JWT_PREVIOUS_PUBLIC_KEYS', parse: keyParse(parsePublicKeys), default: () => [] }),
  // The old name of ACCESS_TOKEN_TTL, still read: ACCESS_TOKEN_TTL wins when both are set (loadConfig).
  jwtExpiresInSeconds: setting({ name: 'JWT_EXPIRES_IN', parse: duration('7d, 12h, 30m or 3600'), default: () => 7 * 86400 }),
  accessTokenTtl: setting<number | undefined>({ name: 'ACCESS_TOKEN_TTL', parse: duration('7d, 15m or 900'), default: () => undefined }),
  // A session unused this long ends; none lives longer than the max age, however used (src/sessions/deadlines.ts).
  sessionIdleTimeoutMs: setting({ name: 'SESSION_IDLE_TIMEOUT', parse: milliseconds('30d, 12h or 3600'), default: () => 30 * 86_400_000 }),
  sessionMaxAgeMs: setting({ name: 'SESSION_MAX_AGE', parse: milliseconds('180d or 30d'), default: () => 180 * 86_400_000 }),
  // How often the expiry sweep ends the sessions whose deadline passed (src/sessions/expiry.ts).
  sessionExpirySweepMs: setting({ name: 'SESSION_EXPIRY_SWEEP_INTERVAL', parse: milliseconds('5s'), default: () => 5_000 }),
  // A spent refresh token presented again within this gets the same new pair (concurrent tabs); after it, reuse revokes.
  refreshReuseGraceMs: setting({ name: 'REFRESH_REUSE_GRACE', parse: milliseconds('10s'), default: () => 10_000 }),
  // Unset: off. Set: sensitive actions need the password or a sign-in/refresh this recent (src/auth/step-up.ts).
  freshAgeMs: setting<number | undefined>({ name: 'FRESH_AGE', parse: milliseconds('10m or 600'), default: () => undefined }),
  mongodbUri: setting({
    name: 'MONGODB_URI',
    parse: url(['mongodb:', 'mongodb+srv:'], 'must be a mongodb:// or mongodb+srv:// URI'),
    default: () => undefined,
    requiredInProduction: 'required in production',
  }),
  // Bounds every wait of a MongoDB operation: for a server, a pooled connection, and the answer (src/services.ts).
  mongodbTimeoutMs: setting({ name: 'MONGODB_TIMEOUT', parse: milliseconds('5s or 2'), default: () => 5000 }),
  // Production requires this or REDIS_CLUSTER_NODES (loadConfig).
  redisUrl: setting({
    name: 'REDIS_URL',
    parse: url(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL'),
    default: () => undefined,
  }),
  // A Redis Cluster in REDIS_URL's place (src/redis-client.ts).
  redisCluster: setting<RedisClusterConfig | undefined>({ name: 'REDIS_CLUSTER_NODES', parse: parseClusterNodes, default: () => undefined }),
  // A private CA for rediss:// (a self-managed Redis with its own certificates), trusted beside the system's.
  redisTlsCa: setting<string | undefined>({ name: 'REDIS_TLS_CA_FILE', parse: pemCertificates, default: () => undefined }),
  // Below 4 bcrypt refuses; above 15 a login takes seconds and invites denial of service.
  bcryptRounds: setting({ name: 'BCRYPT_ROUNDS', parse: integer(4, 15), default: () => 10 }),
  passwordThreads: setting({ name: 'PASSWORD_THREADS', parse: integer(0, 64), default: () => availableParallelism() }),
  passwordQueueLimit: setting({ name: 'PASSWORD_QUEUE_LIMIT', parse: integer(0, 100_000), default: () => 64 }),
  corsOrigins: setting({
    name: 'CORS_ORIGINS',
    parse: (raw) => {
      const origins = raw.split(',').map((o) => o.trim()).filter(Boolean);
      const bad = origins.filter((o) => o !== '*' && !isUrlWithScheme(o, ['http:', 'https:']));
      if (bad.length > 0) return new Invalid(`each origin must be * or an http(s) URL (bad: ${bad.join(', ')})`);
      return origins.map((o) => (o === '*' ? o : new URL(o).origin));
    },
    default: ({ production }) => (production ? [] : ['*']),
  }),
  sseHeartbeatMs: setting({ name: 'SSE_HEARTBEAT_MS', parse: integer(10, 3_600_000, ' of milliseconds'), default: () => 15000 }),
  rateLimitWindowMs: setting({ name: 'RATE_LIMIT_WINDOW', parse: milliseconds('15m or 900'), default: () => 15 * 60_000 }),
  rateLimitPerAccountAddress: setting({ name: 'RATE_LIMIT_PER_ACCOUNT_ADDRESS', parse: integer(1, 1_000_000), default: () => 5 }),
  rateLimitPerAccount: setting({ name: 'RATE_LIMIT_PER_ACCOUNT', parse: integer(1, 1_000_000), default: () => 20 }),
  rateLimitPerIp: setting({ name: 'RATE_LIMIT_PER_IP', parse: integer(1, 1_000_000), default: () => 100 }),
  streamsPerSession: setting({ name: 'STREAMS_PER_SESSION', parse: integer(1, 1_000_000), default: () => 5 }),
  streamsPerUser: setting({ name: 'STREAMS_PER_USER', parse: integer(1, 1_000_000), default: () => 50 }),
  sessionsPerUser: setting({ name: 'SESSIONS_PER_USER', parse: integer(1, 1_000_000), default: () => 100 }),
  sessionRetentionMs: setting({ name: 'SESSION_RETENTION', parse: milliseconds('30d'), default: () => 30 * 86_400_000 }),
  housekeepingIntervalMs: setting({ name: 'HOUSEKEEPING_INTERVAL', parse: milliseconds('1m'), default: () => 60_000 }),
  purgeIntervalMs: setting({ name: 'SESSION_PURGE_INTERVAL', parse: milliseconds('10m'), default: () => 10 * 60_000 }),
  revocationSweepMs: setting({ name: 'REVOCATION_SWEEP_INTERVAL', parse: milliseconds('5s'), default: () => 5_000 }),
  revocationGraceMs: setting({ name: 'REVOCATION_GRACE', parse: milliseconds('30s'), default: () => 30_000 }),
  // How long an event stream's place (the caps) outlives an instance that died; renewed every third of it while the stream runs.
  streamLeaseMs: setting({ name: 'STREAM_LEASE', parse: milliseconds('60s'), default: () => 60_000 }),
  // What a slow client may take: the request line and headers, the whole request, an idle keep-alive connection.
  httpHeadersTimeoutMs: setting({ name: 'HTTP_HEADERS_TIMEOUT', parse: milliseconds('10s'), default: () => 10_000 }),
  httpRequestTimeoutMs: setting({ name: 'HTTP_REQUEST_TIMEOUT', parse: milliseconds('30s'), default: () => 30_000 }),
  httpKeepAliveTimeoutMs: setting({ name: 'HTTP_KEEPALIVE_TIMEOUT', parse: milliseconds('5s'), default: () => 5_000 }),
  shutdownTimeoutMs: setting({ name: 'SHUTDOWN_TIMEOUT', parse: milliseconds('10s'), default: () => 10_000 }),
  // `true` is the one proxy most deployments have; a count for a chain (a CDN before a load balancer).
  trustProxy: setting({
    name: 'TRUST_PROXY',
    parse: (raw) => {
      const flag = boolean(raw);
      if (!(flag instanceof Invalid)) return flag ? 1 : 0;
      return parseInteger(raw, 0, 10) ?? new Invalid(`must be true, false or a number of proxies from 0 to 10 (got "${raw}")`);
    },
    default: () => 0,
  }),
  // Both map the API for a visitor: on for developers, off in production unless the operator says so.
  graphiql: setting({ name: 'GRAPHIQL', parse: boolean, default: ({ production }) => !production }),
  introspection: setting({ name: 'INTROSPECTION', parse: boolean, default: ({ production }) => !production }),
  securityEventsRetentionSeconds: setting({
    name: 'SECURITY_EVENTS_RETENTION',
    parse: duration('90d, 12h or 3600'),
    default: () => 90 * 86400,
  }),
  // Each timeline page is a MongoDB query: a per-user budget, so one account reading in a loop slows nobody else.
  securityEventsReadsPerMinute: setting({ name: 'SECURITY_EVENTS_READS_PER_MINUTE', parse: integer(1, 1_000_000), default: () => 60 }),
  logLevel: setting({
    name: 'LOG_LEVEL',
    parse: oneOf(LOG_LEVELS, `one of ${LOG_LEVELS.join(', ')}`),
    default: ({ nodeEnv }) => (nodeEnv === 'test' ? 'silent' : 'info'),
  }),
  serverId: setting({ name: 'SERVER_ID', parse: (raw) => raw, default: () => hostname() }),
  // The admin API (src/admin/): off unless set; each key at least 32 characters, compared in constant time.
  adminApiKeys: setting<readonly string[]>({ name: 'ADMIN_API_KEYS', parse: adminKeys, default: () => [] }),
  // Webhooks (src/webhooks/): where every event is POSTed, and the Standard Webhooks secret that signs them.
  webhookUrls: setting<readonly string[]>({ name: 'WEBHOOK_URL', parse: webhookUrls, default: () => [] }),
  webhookSecret: setting<Buffer | undefined>({ name: 'WEBHOOK_SECRET', parse: webhookSecret, default: () => undefined }),
  // The first retry's delay; each next one doubles it (with jitter), up to an hour (docs/operations.md, "Webhooks").
  webhookRetryBaseMs: setting({ name: 'WEBHOOK_RETRY_BASE_MS', parse: integer(10, 3_600_000, ' of milliseconds'), default: () => 5_000 }),
};

type Values = { [K in keyof typeof SETTINGS]: ValueOf<(typeof SETTINGS)[K]> };

/** The variables the server reads, as docs/operations.md lists them. */
export const SETTING_NAMES: readonly string[] = [NODE_ENV.name, JWT_ALGORITHM.name, ...Object.values(SETTINGS).map((row) => row.name)];

/** Read into groups that go together (the sign-in limits, the caps). */
type Grouped = 'jwtSecret' | 'jwtPrivateKey' | 'accessTokenTtl' | 'rateLimitWindowMs' | 'rateLimitPerAccountAddress' | 'rateLimitPerAccount' | 'rateLimitPerIp' | 'streamsPerSession' | 'streamsPerUser' | 'sessionsPerUser';

/** Everything the server reads from its environment, validated once at start. */
export type Config = Omit<Values, Grouped> & {
  nodeEnv: NodeEnv;
  jwtAlgorithm: JwtAlgorithm;
  /** JWT_SECRET, or (ES256, EdDSA) a secret derived from the private key: the server's own MACs use it. */
  jwtSecret: string;
  /** ES256 and EdDSA: the signing key (JWT_PRIVATE_KEY); undefined for HS256. */
  jwtPrivateKey: KeyObject | undefined;
  /** True when no JWT_SECRET (or JWT_PRIVATE_KEY) was given and one was generated for this process. */
  jwtSecretGenerated: boolean;
  /** ACCESS_TOKEN_TTL, else JWT_EXPIRES_IN: an access token's lifetime, never past its session's absolute end. */
  accessTokenTtlSeconds: number;
  /** Sign-in throttling (src/auth/rate-limit.ts): failures per window by account+address, account, address. */
  rateLimit: { windowMs: number; perAccountAddress: number; perAccount: number; perIp: number };
  /** What one user can hold open (docs/operations.md, "Limits"). */
  caps: { streamsPerSession: number; streamsPerUser: number; sessionsPerUser: number };
};

/** One variable's value; a problem is recorded and the default stands in, so every problem is found in one pass. */
function read<T>(setting: Setting<T>, env: Env, mode: Mode, problems: string[]): T {
  const raw = env[setting.name]?.trim();
  if (!raw) {
    const { requiredInProduction: required } = setting;
    const problem = typeof required === 'function' ? required(mode) : required;
    if (mode.production && problem) problems.push(`${setting.name}: ${problem}`);
    return setting.default(mode);
  }
  const parsed = setting.parse(raw, mode);
  if (!(parsed instanceof Invalid)) return parsed;
  problems.push(`${setting.name}: ${parsed.reason}`);
  return setting.default(mode);
}

/**
 * Reads the configuration table. Collects every problem before
 * failing so that one start-up shows all of them, one line per variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const early: Mode = { nodeEnv: 'development', production: false, jwtAlgorithm: 'HS256' };
  const nodeEnv = read(NODE_ENV, env, early, problems);
  const before = problems.length;
  const jwtAlgorithm = read(JWT_ALGORITHM, env, early, problems);
  const mode: Mode = { nodeEnv, production: nodeEnv === 'production', jwtAlgorithm: problems.length > before ? null : jwtAlgorithm };
  const values = {} as Record<keyof Values, unknown>;
  for (const [key, row] of Object.entries(SETTINGS) as Array<[keyof Values, Setting<unknown>]>) {
    values[key] = read(row, env, mode, problems);
  }
  const {
    jwtSecret,
    jwtPrivateKey,
    accessTokenTtl,
    rateLimitWindowMs,
    rateLimitPerAccountAddress,
    rateLimitPerAccount,
    rateLimitPerIp,
    streamsPerSession,
    streamsPerUser,
    sessionsPerUser,
    ...rest
  } = values as Values;
  // One Redis or the other: each instance must share its state with the others.
  const [hasUrl, hasCluster] = [Boolean(env.REDIS_URL?.trim()), Boolean(env.REDIS_CLUSTER_NODES?.trim())];
  if (hasUrl && hasCluster) problems.push('REDIS_CLUSTER_NODES: set REDIS_URL or REDIS_CLUSTER_NODES, not both');
  if (mode.production && !hasUrl && !hasCluster) problems.push('REDIS_URL: required in production (or REDIS_CLUSTER_NODES for a Redis Cluster)');
  if (rest.webhookUrls.length > 0 && rest.webhookSecret === undefined) problems.push('WEBHOOK_SECRET: required with WEBHOOK_URL');
  if (problems.length > 0) throw new ConfigError(problems);
  const privateKey = jwtAlgorithm === 'HS256' ? undefined : (jwtPrivateKey ?? generatePrivateKey(jwtAlgorithm));
  return {
    ...rest,
    nodeEnv,
    jwtAlgorithm,
    jwtSecret: privateKey ? deriveServerSecret(privateKey) : (jwtSecret ?? randomBytes(48).toString('base64url')),
    jwtPrivateKey: privateKey,
    jwtSecretGenerated: privateKey ? jwtPrivateKey === undefined : jwtSecret === undefined,
    accessTokenTtlSeconds: accessTokenTtl ?? rest.jwtExpiresInSeconds,
    rateLimit: {
      windowMs: rateLimitWindowMs,
      perAccountAddress: rateLimitPerAccountAddress,
      perAccount: rateLimitPerAccount,
      perIp: rateLimitPerIp,
    },
    caps: { streamsPerSession, streamsPerUser, sessionsPerUser },
  };
}
