import { isUtf8 } from 'node:buffer';
import { badInput } from '../errors.js';

/**
 * Request bodies, the same way on both APIs: REST routes read them with
 * rest-compat/http.ts, GraphQL with src/graphql/json-body.ts, and both go
 * through these two functions.
 */

/**
 * Is the request body declared as JSON (`application/json`, any parameters,
 * or a `+json` type)? Browsers send only `text/plain`, form-urlencoded and
 * multipart bodies cross-site without a CORS preflight, so refusing everything
 * else closes cross-site request forgery on both APIs.
 */
export function isJsonContentType(request: Request): boolean {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[\w.-]+\+json$/.test(type);
}

/**
 * The body's JSON value, `undefined` for an empty body. Invalid UTF-8 is
 * refused rather than decoded leniently: a lenient decoder turns bad bytes into
 * U+FFFD, which one API would then store while the other refused it.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (!isUtf8(bytes)) throw badInput('body', 'request body must be UTF-8 encoded JSON');
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badInput('body', 'request body is not valid JSON');
  }
}
