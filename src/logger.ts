import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Anything that could carry a secret is redacted by path so that a
 * careless `log.info({ req })` still never prints a token or a password.
 */
export function createLogger(options: { level: string; serverId: string; destination?: DestinationStream }): Logger {
  const settings = {
    level: options.level,
    base: { serverId: options.serverId },
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'jwtSecret',
        '*.jwtSecret',
        'jwtPrivateKey',
        '*.jwtPrivateKey',
        'passwordHash',
        '*.passwordHash',
        'refreshToken',
        '*.refreshToken',
        'refreshHash',
        '*.refreshHash',
      ],
      censor: '[redacted]',
    },
  };
  return pino(settings, options.destination ?? bufferedStdout());
}

/** Where a process's log lines go: a terminal, or anything else (a pipe, a file, a log collector). */
export interface LogOutput {
  /** Is it a terminal (a developer reading)? */
  tty: boolean;
  /** Where readable lines go instead of stdout (tests). */
  stream?: NodeJS.WritableStream;
}

/**
 * The process's logger: JSON lines (what a log collector reads), except in
 * development on a terminal, where a developer reads them: pino-pretty's
 * readable lines (a devDependency: without it, JSON). Production is JSON
 * whatever the output.
 */
export async function createProcessLogger(
  config: { logLevel: string; serverId: string; nodeEnv: string },
  output: LogOutput = { tty: process.stdout.isTTY === true },
): Promise<Logger> {
  const options = { level: config.logLevel, serverId: config.serverId };
  if (config.nodeEnv === 'development' && output.tty) {
    const pretty = await readableLines(output.stream);
    if (pretty) return createLogger({ ...options, destination: pretty });
  }
  return createLogger(output.stream ? { ...options, destination: output.stream } : options);
}

async function readableLines(stream: NodeJS.WritableStream | undefined): Promise<DestinationStream | null> {
  try {
    const { default: pretty } = await import('pino-pretty');
    // Synchronous, unlike the JSON output: a terminal's reader wants each line as it happens.
    return pretty({ colorize: stream === undefined, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,serverId', sync: true, ...(stream ? { destination: stream } : {}) });
  } catch {
    return null;
  }
}

/** Lines reach stdout at most this late when traffic is too light to fill the buffer. */
const LOG_FLUSH_INTERVAL_MS = 1000;

/**
 * stdout, written asynchronously in blocks of 32 kB or every second, whichever
 * comes first. Every write costs CPU time whatever its size, so a write per
 * request line (synchronous or not), or per few lines, is a share of every
 * read's cost; large blocks make it negligible. pino flushes what
 * is left when the process exits; main.ts also flushes on shutdown.
 */
function bufferedStdout(): DestinationStream {
  // sonic-boom needs minLength below maxWrite (16 kB by default).
  const destination = pino.destination({ dest: 1, sync: false, minLength: 32 * 1024, maxWrite: 64 * 1024 });
  setInterval(() => destination.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  return destination;
}

/** Writes out what the asynchronous destination still holds (before exit). */
export function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}

// Query-string keys the server reads. Any other key is logged as `[key]`: a
// key can carry a secret as easily as a value (`?hunter2`).
const KNOWN_QUERY_KEYS = new Set(['token', 'query', 'variables', 'operationName', 'extensions']);

/**
 * What the request log records of a URL: the path, and the query string's
 * keys (decoded, so `?%74oken=` is logged as `token`) with every value
 * redacted. Tokens (EventSource), GraphQL documents and variables (GET
 * /graphql, which may carry a password) never reach the log.
 */
export function loggableRoute(url: URL): string {
  const keys = [...url.searchParams.keys()].map((key) => (KNOWN_QUERY_KEYS.has(key) ? key : '[key]'));
  return keys.length === 0 ? url.pathname : `${url.pathname}?${keys.map((key) => `${key}=[redacted]`).join('&')}`;
}
