import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { loggableRoute } from '../logger.js';
import type { RequestHead } from './handler.js';

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** One request's log line, opened when it arrives. */
export interface RequestLogLine {
  /** The client's X-Request-Id when it is well-formed, else a new one; the response echoes it. */
  id: string;
  /** Writes the line once the response head is ready. */
  answered(status: number): void;
  failed(error: unknown): void;
}

/**
 * One JSON line per request: id, method, route, status, duration (to the
 * response head; an event stream goes on after it). The URL is logged as
 * loggableRoute says (path and query keys, no values), and no header or body
 * is logged at all.
 */
export function requestLog(log: Logger): (request: RequestHead, url: URL) => RequestLogLine {
  const lines = unredacted(log);
  return (request, url) => {
    const started = performance.now();
    const given = request.headers.get('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    const entry = { reqId: id, method: request.method, route: loggableRoute(url) };
    return {
      id,
      answered(status) {
        const durationMs = Math.round((performance.now() - started) * 10) / 10;
        const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
        lines[level]({ ...entry, status, durationMs }, 'request');
      },
      failed(error) {
        lines.error({ ...entry, err: error instanceof Error ? error.message : String(error) }, 'request failed');
      },
    };
  };
}

/**
 * The logger without its redaction paths, for lines made only of the fields
 * above, none of which can hold a secret (the id is checked against
 * REQUEST_ID or generated). The paths' wildcards (`*.token`…) make pino walk
 * every field of every line, for lines that cannot hold what they look for.
 */
function unredacted(log: Logger): Logger {
  return log.child({}, { redact: [] });
}
