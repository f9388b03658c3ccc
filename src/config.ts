import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  port: number;
  nodeEnv: 'development' | 'production' | 'test';
  jwtSecret: string;
  /** True when no JWT_SECRET was given and one was generated for this process. */
  jwtSecretGenerated: boolean;
  /** Session and token lifetime in seconds. */
  jwtExpiresInSeconds: number;
  /** Undefined: start the embedded in-memory MongoDB (development only). */
  mongodbUri: string | undefined;
  /** Undefined: in-process pub/sub and session cache (development only, one instance). */
  redisUrl: string | undefined;
  serverId: string;
  bcryptRounds: number;
  /** `['*']` allows any origin. */
  corsOrigins: string[];
  sseHeartbeatMs: number;
  /** Sign-in throttling (src/rate-limit.ts): failures per window by account+address, account, address. */
  rateLimit: { windowMs: number; perAccountAddress: number; perAccount: number; perIp: number };
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Serve GraphiQL at /graphql in a browser (default: on outside production). */
  graphiql: boolean;
  /** Answer schema introspection (`__schema`, `__type`) (default: on outside production). */
  introspection: boolean;
  logLevel: string;
}

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

/**
 * Reads the configuration table of API.md. Collects every problem before
 * failing so that one start-up shows all of them, one line per variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const nodeEnvRaw = get('NODE_ENV') ?? 'development';
  let nodeEnv: Config['nodeEnv'] = 'development';
  if (nodeEnvRaw === 'development' || nodeEnvRaw === 'production' || nodeEnvRaw === 'test') {
    nodeEnv = nodeEnvRaw;
  } else {
    problems.push(`NODE_ENV: must be development, production or test (got "${nodeEnvRaw}")`);
  }
  const production = nodeEnv === 'production';

  let port = 3001;
  const portRaw = get('PORT');
  if (portRaw !== undefined) {
    const parsed = parseInteger(portRaw, 0, 65535);
    if (parsed === null) problems.push(`PORT: must be a whole number from 0 to 65535 (got "${portRaw}")`);
    else port = parsed;
  }

  let jwtSecret = get('JWT_SECRET');
  let jwtSecretGenerated = false;
  if (jwtSecret === undefined) {
    if (production) problems.push('JWT_SECRET: required in production (at least 32 characters)');
    jwtSecret = randomBytes(48).toString('base64url');
    jwtSecretGenerated = true;
  } else if (production && jwtSecret.length < 32) {
    problems.push(`JWT_SECRET: must be at least 32 characters in production (got ${jwtSecret.length})`);
  }

  let jwtExpiresInSeconds = 7 * 86400;
  const expiresRaw = get('JWT_EXPIRES_IN');
  if (expiresRaw !== undefined) {
    const parsed = parseDurationSeconds(expiresRaw);
    if (parsed === null) problems.push(`JWT_EXPIRES_IN: must be a duration such as 7d, 12h, 30m or 3600 (got "${expiresRaw}")`);
    else jwtExpiresInSeconds = parsed;
  }

  const mongodbUri = get('MONGODB_URI');
  if (mongodbUri !== undefined && !isUrlWithScheme(mongodbUri, ['mongodb:', 'mongodb+srv:'])) {
    problems.push('MONGODB_URI: must be a mongodb:// or mongodb+srv:// URI');
  } else if (mongodbUri === undefined && production) {
    problems.push('MONGODB_URI: required in production');
  }

  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined && !isUrlWithScheme(redisUrl, ['redis:', 'rediss:'])) {
    problems.push('REDIS_URL: must be a redis:// or rediss:// URL');
  } else if (redisUrl === undefined && production) {
    problems.push('REDIS_URL: required in production');
  }

  let bcryptRounds = 10;
  const roundsRaw = get('BCRYPT_ROUNDS');
  if (roundsRaw !== undefined) {
    // Below 4 bcrypt refuses; above 15 a login takes seconds and invites denial of service.
    const parsed = parseInteger(roundsRaw, 4, 15);
    if (parsed === null) problems.push(`BCRYPT_ROUNDS: must be a whole number from 4 to 15 (got "${roundsRaw}")`);
    else bcryptRounds = parsed;
  }

  let corsOrigins = production ? [] : ['*'];
  const corsRaw = get('CORS_ORIGINS');
  if (corsRaw !== undefined) {
    const origins = corsRaw.split(',').map((o) => o.trim()).filter(Boolean);
    const bad = origins.filter((o) => o !== '*' && !isUrlWithScheme(o, ['http:', 'https:']));
    if (bad.length > 0) problems.push(`CORS_ORIGINS: each origin must be * or an http(s) URL (bad: ${bad.join(', ')})`);
    else corsOrigins = origins.map((o) => (o === '*' ? o : new URL(o).origin));
  }

  let sseHeartbeatMs = 15000;
  const heartbeatRaw = get('SSE_HEARTBEAT_MS');
  if (heartbeatRaw !== undefined) {
    const parsed = parseInteger(heartbeatRaw, 10, 3_600_000);
    if (parsed === null) problems.push(`SSE_HEARTBEAT_MS: must be a whole number of milliseconds from 10 to 3600000 (got "${heartbeatRaw}")`);
    else sseHeartbeatMs = parsed;
  }

  const rateLimit = { windowMs: 15 * 60_000, perAccountAddress: 5, perAccount: 20, perIp: 100 };
  const windowRaw = get('RATE_LIMIT_WINDOW');
  if (windowRaw !== undefined) {
    const parsed = parseDurationSeconds(windowRaw);
    if (parsed === null) problems.push(`RATE_LIMIT_WINDOW: must be a duration such as 15m or 900 (got "${windowRaw}")`);
    else rateLimit.windowMs = parsed * 1000;
  }
  for (const [name, field] of [
    ['RATE_LIMIT_PER_ACCOUNT_ADDRESS', 'perAccountAddress'],
    ['RATE_LIMIT_PER_ACCOUNT', 'perAccount'],
    ['RATE_LIMIT_PER_IP', 'perIp'],
  ] as const) {
    const raw = get(name);
    if (raw === undefined) continue;
    const parsed = parseInteger(raw, 1, 1_000_000);
    if (parsed === null) problems.push(`${name}: must be a whole number from 1 to 1000000 (got "${raw}")`);
    else rateLimit[field] = parsed;
  }

  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (/^(1|true|yes)$/i.test(raw)) return true;
    if (!/^(0|false|no)$/i.test(raw)) problems.push(`${name}: must be true or false (got "${raw}")`);
    return false;
  };
  const trustProxy = boolean('TRUST_PROXY', false);
  // Both map the API for a visitor: on for developers, off in production unless the operator says so.
  const graphiql = boolean('GRAPHIQL', !production);
  const introspection = boolean('INTROSPECTION', !production);

  const logLevel = get('LOG_LEVEL') ?? (nodeEnv === 'test' ? 'silent' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    nodeEnv,
    jwtSecret,
    jwtSecretGenerated,
    jwtExpiresInSeconds,
    mongodbUri,
    redisUrl,
    serverId: get('SERVER_ID') ?? hostname(),
    bcryptRounds,
    corsOrigins,
    sseHeartbeatMs,
    rateLimit,
    trustProxy,
    graphiql,
    introspection,
    logLevel,
  };
}
