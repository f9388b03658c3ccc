import { Response } from '@whatwg-node/server';
import { httpErrorOf, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * A JSON response; every REST answer, success or error, goes through here.
 * The server adapter's own Response class: it writes a string body straight to
 * the socket, where a global Response would be pumped through a ReadableStream.
 */
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
  if (toAppError(error) === null) {
    log.error({ err: error instanceof Error ? error.stack : String(error) }, 'unexpected error in REST route');
  }
  const { status, code, message, headers } = httpErrorOf(error);
  return json(status, { error: { code, message } }, headers);
}
