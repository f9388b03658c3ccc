import type { RequestHead } from './handler.js';

const PREFLIGHT = {
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  // last-event-id: a reconnecting EventSource sends it; PUT and the stream token: graphql-sse's single connection (/graphql/stream).
  'access-control-allow-headers': 'authorization, content-type, accept, last-event-id, x-graphql-event-stream-token',
  'access-control-max-age': '600',
};

export function corsHeaders(request: RequestHead, origins: readonly string[]): Record<string, string> {
  const anyOrigin = origins.includes('*');
  // A listed origin is echoed, so caches must keep answers for different origins apart.
  const headers: Record<string, string> = anyOrigin ? {} : { vary: 'Origin' };
  const origin = request.headers.get('origin');
  if (origin === null || !(anyOrigin || origins.includes(origin))) return headers;
  headers['access-control-allow-origin'] = anyOrigin ? '*' : origin;
  headers['access-control-expose-headers'] = 'retry-after, www-authenticate, allow, x-request-id';
  return headers;
}

/**
 * The answer to a CORS preflight (any OPTIONS request), for every path at
 * once; the pipeline adds corsHeaders to it as to every answer. No credentials
 * mode: tokens travel in headers, never in cookies, so `*` cannot leak a
 * session. A disallowed origin gets no CORS headers at all.
 */
export function preflight(request: RequestHead, origins: readonly string[]): Response {
  return new Response(null, { status: 204, headers: corsHeaders(request, origins)['access-control-allow-origin'] ? PREFLIGHT : {} });
}
