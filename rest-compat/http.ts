import { AppError, badInput, toAppError, unsupportedMediaType } from '../src/errors.js';
import { isJsonContentType } from '../src/content-type.js';
import type { Logger } from '../src/logger.js';

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
  const status = known.status;
  const headers: Record<string, string> = {};
  // RFC 9110: a 401 names the scheme that would work.
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="logout-all"';
  if (known.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(known.retryAfter)));
  return json(status, { error: { code: known.code, message: known.message } }, headers);
}


/**
 * The request body as a JSON object. The size limit is already enforced by
 * the app (src/server.ts) before any route runs. No body at all is `{}`, so
 * that a missing field gets the validator's own "is required" message.
 * A body must be declared `application/json` (else 415): HTML forms can send
 * `text/plain` and form types cross-site without a preflight, JSON they cannot.
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const declared = request.headers.has('content-type');
  if ((declared || bytes.byteLength > 0) && !isJsonContentType(request)) throw unsupportedMediaType();
  // Already checked to be UTF-8, with the size, for both APIs (src/body-limit.ts).
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badInput('body', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput('body', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
