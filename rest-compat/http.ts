import { badInput } from '../src/errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as a JSON object. The size limit is already enforced by
 * the app (src/server.ts) before any route runs. No body at all is `{}`, so
 * that a missing field gets the validator's own "is required" message; the
 * Content-Type is not checked, as the original server did not insist on it.
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw badInput('body', 'request body must be UTF-8 encoded JSON');
  }
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
