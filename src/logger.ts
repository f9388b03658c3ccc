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
        'passwordHash',
        '*.passwordHash',
      ],
      censor: '[redacted]',
    },
  };
  // stdout, written asynchronously: a synchronous write per request line was a
  // measurable share of each request's CPU time. Lines written while one write
  // is in flight go out together; main.ts flushes before the process exits.
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: false }));
}

/** Writes out what the asynchronous destination still holds (before exit). */
export function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}

/** Removes `token=` from a URL before it is logged: EventSource clients put their JWT there. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
