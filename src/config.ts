import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';

/** Thrown when the environment is unusable; each line names one variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `7d`, `12h`, `30m`, `45s` or a plain number of seconds. */
export function parseDurationSeconds(value: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : null;
}

function parseInteger(value: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(value.trim())) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

function isUrlWithScheme(value: string, schemes: string[]): boolean {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol) && url.host.length > 0;
  } catch {
    return false;
  }
}

/** What is wrong with a variable's text, reported as "NAME: reason". */
class Invalid {
  constructor(readonly reason: string) {}
}

/** What a setting's parse and default may depend on. */
interface Mode {
  nodeEnv: NodeEnv;
  production: boolean;
}

/** One environment variable: how to read it, what it is when unset, and whether production insists on it. */
interface Setting<T> {
  name: string;
  parse: (raw: string, mode: Mode) => T | Invalid;
  default: (mode: Mode) => T;
  /** The problem reported when it is unset in production; absent: optional everywhere. */
  requiredInProduction?: string;
}

/** A row of the table, its value's type inferred from `parse` and `default`. */
const setting = <T>(row: Setting<T>): Setting<T> => row;
type ValueOf<S> = S extends Setting<infer T> ? T : never;

type NodeEnv = 'development' | 'production' | 'test';

const integer =
  (min: number, max: number, unit = '') =>
  (raw: string): number | Invalid =>
    parseInteger(raw, min, max) ?? new Invalid(`must be a whole number${unit} from ${min} to ${max} (got "${raw}")`);

const duration =
  (examples: string) =>
  (raw: string): number | Invalid =>
    parseDurationSeconds(raw) ?? new Invalid(`must be a duration such as ${examples} (got "${raw}")`);

const milliseconds =
  (examples: string) =>
  (raw: string): number | Invalid => {
    const seconds = duration(examples)(raw);
    return seconds instanceof Invalid ? seconds : seconds * 1000;
  };

const url =
  (schemes: string[], reason: string) =>
  (raw: string): string | Invalid =>
    isUrlWithScheme(raw, schemes) ? raw : new Invalid(reason);

const oneOf =
  <T extends string>(values: readonly T[], list: string) =>
  (raw: string): T | Invalid =>
    (values as readonly string[]).includes(raw) ? (raw as T) : new Invalid(`must be ${list} (got "${raw}")`);

const boolean = (raw: string): boolean | Invalid =>
  /^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : new Invalid(`must be true or false (got "${raw}")`);

const NODE_ENV: Setting<NodeEnv> = {
  name: 'NODE_ENV',
  parse: oneOf(['development', 'production', 'test'], 'development, production or test'),
  default: () => 'development',
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
  jwtSecret: setting({
    name: 'JWT_SECRET',
    parse: (raw, { production }) =>
      production && raw.length < 32 ? new Invalid(`must be at least 32 characters in production (got ${raw.length})`) : raw,
    // Unset outside production: a random secret for this process (loadConfig generates it).
    default: () => undefined,
    requiredInProduction: 'required in production (at least 32 characters)',
  }),
  jwtExpiresInSeconds: setting({ name: 'JWT_EXPIRES_IN', parse: duration('7d, 12h, 30m or 3600'), default: () => 7 * 86400 }),
  mongodbUri: setting({
    name: 'MONGODB_URI',
    parse: url(['mongodb:', 'mongodb+srv:'], 'must be a mongodb:// or mongodb+srv:// URI'),
    default: () => undefined,
    requiredInProduction: 'required in production',
  }),
  // Bounds every wait of a MongoDB operation: for a server, a pooled connection, and the answer (src/services.ts).
  mongodbTimeoutMs: setting({ name: 'MONGODB_TIMEOUT', parse: milliseconds('5s or 2'), default: () => 5000 }),
  redisUrl: setting({
    name: 'REDIS_URL',
    parse: url(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL'),
    default: () => undefined,
    requiredInProduction: 'required in production',
  }),
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
};

type Values = { [K in keyof typeof SETTINGS]: ValueOf<(typeof SETTINGS)[K]> };

/** The variables the server reads, as docs/operations.md lists them. */
export const SETTING_NAMES: readonly string[] = [NODE_ENV.name, ...Object.values(SETTINGS).map((row) => row.name)];

/** Read into groups that go together (the sign-in limits, the caps). */
type Grouped = 'jwtSecret' | 'rateLimitWindowMs' | 'rateLimitPerAccountAddress' | 'rateLimitPerAccount' | 'rateLimitPerIp' | 'streamsPerSession' | 'streamsPerUser' | 'sessionsPerUser';

/** Everything the server reads from its environment, validated once at start. */
export type Config = Omit<Values, Grouped> & {
  nodeEnv: NodeEnv;
  jwtSecret: string;
  /** True when no JWT_SECRET was given and one was generated for this process. */
  jwtSecretGenerated: boolean;
  /** Sign-in throttling (src/auth/rate-limit.ts): failures per window by account+address, account, address. */
  rateLimit: { windowMs: number; perAccountAddress: number; perAccount: number; perIp: number };
  /** What one user can hold open (docs/operations.md, "Limits"). */
  caps: { streamsPerSession: number; streamsPerUser: number; sessionsPerUser: number };
};

/** One variable's value; a problem is recorded and the default stands in, so every problem is found in one pass. */
function read<T>(setting: Setting<T>, env: Env, mode: Mode, problems: string[]): T {
  const raw = env[setting.name]?.trim();
  if (!raw) {
    if (mode.production && setting.requiredInProduction) problems.push(`${setting.name}: ${setting.requiredInProduction}`);
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
  const nodeEnv = read(NODE_ENV, env, { nodeEnv: 'development', production: false }, problems);
  const mode: Mode = { nodeEnv, production: nodeEnv === 'production' };
  const values = {} as Record<keyof Values, unknown>;
  for (const [key, row] of Object.entries(SETTINGS) as Array<[keyof Values, Setting<unknown>]>) {
    values[key] = read(row, env, mode, problems);
  }
  const {
    jwtSecret,
    rateLimitWindowMs,
    rateLimitPerAccountAddress,
    rateLimitPerAccount,
    rateLimitPerIp,
    streamsPerSession,
    streamsPerUser,
    sessionsPerUser,
    ...rest
  } = values as Values;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...rest,
    nodeEnv,
    jwtSecret: jwtSecret ?? randomBytes(48).toString('base64url'),
    jwtSecretGenerated: jwtSecret === undefined,
    rateLimit: {
      windowMs: rateLimitWindowMs,
      perAccountAddress: rateLimitPerAccountAddress,
      perAccount: rateLimitPerAccount,
      perIp: rateLimitPerIp,
    },
    caps: { streamsPerSession, streamsPerUser, sessionsPerUser },
  };
}
