import { Response } from '@whatwg-node/server';
import { httpErrorOf, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * A JSON answer before it becomes a Response: the fetch pipeline turns it into
 * one (`toResponse`), the node fast path (src/http/node-reads.ts) writes it to
 * the socket as it is. One place decides status, headers and body for both.
 */
export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): JsonReply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * The server adapter's own Response class: it writes a string body straight to
 * the socket, where a global Response would be pumped through a ReadableStream.
 */
export function toResponse(reply: JsonReply): Response {
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}

/** A JSON response; every REST answer, success or error, goes through here. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return toResponse(jsonReply(status, body, headers));
}

/**
 * `{"error": {"code", "message"}}` with the status of ERROR_STATUS, the one
 * code → status table. Anything that is not an AppError is logged and masked,
 * as GraphQL masks it: no message, no stack leaves the server.
 */
export function errorReply(error: unknown, log: Logger): JsonReply {
  if (toAppError(error) === null) {
    log.error({ err: error instanceof Error ? error.stack : String(error) }, 'unexpected error in REST route');
  }
  const { status, code, message, headers } = httpErrorOf(error);
  return jsonReply(status, { error: { code, message } }, headers);
}

export function errorResponse(error: unknown, log: Logger): Response {
  return toResponse(errorReply(error, log));
}
