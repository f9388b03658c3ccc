// The /devices page's GraphQL calls (public/devices.js): one operation, and a subscription over SSE.

export class ApiError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

/** One GraphQL operation; throws the first error with its `extensions.code`. */
export async function api(token, query, variables = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
  const error = body.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code);
  return body.data;
}

/**
 * A GraphQL subscription over SSE, read with fetch so the token travels in a
 * header rather than the URL: `onOpen` once the server answered, `onBlock` for
 * each event block. Resolves when the stream ends; throws if it could not open or was cut.
 */
export async function subscribe(token, query, controller, onOpen, onBlock) {
  const headers = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` };
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query }), signal: controller.signal });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      onBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

/** The JSON of a GraphQL-over-SSE `next` event, else null. */
export function dataOf(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  return event === 'next' && data ? JSON.parse(data) : null;
}
