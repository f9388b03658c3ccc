import { AppError, ERROR_STATUS, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** A JSON response; every REST answer, success or error, goes through here. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/**
 * `{"error": {"code", "message"}}` with the status of ERROR_STATUS, the one
 * code → status table. Anything that is not an AppError is logged and masked,
 * as GraphQL masks it: no message, no stack leaves the server.
 */
export function errorResponse(error: unknown, log: Logger): Response {
  // The same mapping the resolvers use: an unreachable dependency is SERVICE_UNAVAILABLE.
  const known = toAppError(error);
  if (!(known instanceof AppError)) {
    log.error({ err: error instanceof Error ? error.stack : String(error) }, 'unexpected error in REST route');
    return errorResponse(new AppError('INTERNAL_SERVER_ERROR'), log);
  }
  const status = ERROR_STATUS[known.code];
  const headers: Record<string, string> = {};
  // RFC 9110: a 401 names the scheme that would work.
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="logout-all"';
  if (known.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(known.retryAfter)));
  return json(status, { error: { code: known.code, message: known.message } }, headers);
}
