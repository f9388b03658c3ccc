import { badInput, unsupportedMediaType } from '../src/errors.js';
import { isJsonContentType, readJsonBody } from '../src/http/json-body.js';

/**
 * The request body as a JSON object. The size limit is already enforced by
 * the app (src/server.ts) before any route runs. No body at all is `{}`, so
 * that a missing field gets the validator's own "is required" message.
 * A body must be declared `application/json` (else 415): HTML forms can send
 * `text/plain` and form types cross-site without a preflight, JSON they cannot.
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const declared = request.headers.has('content-type');
  if (declared && !isJsonContentType(request)) throw unsupportedMediaType();
  const value = await readJsonBody(request);
  if (value === undefined) return {};
  if (!declared) throw unsupportedMediaType();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput('body', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
