import { badInput, unsupportedMediaType } from '../src/errors.js';
import { isJsonContentType } from '../src/http/content-type.js';

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
  // Already checked to be UTF-8, with the size, for both APIs (src/http/body-limit.ts).
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
