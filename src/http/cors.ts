import type { Handler, RequestHead } from './handler.js';

const PREFLIGHT = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  // last-event-id: a reconnecting EventSource sends it.
  'access-control-allow-headers': 'authorization, content-type, accept, last-event-id',
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
 * CORS_ORIGINS for every path (GraphQL, REST, health), answered in one place.
 * No credentials mode: tokens travel in headers, never in cookies, so `*`
 * cannot leak a session. A disallowed origin gets no CORS headers at all.
 */
export function withCors(handler: Handler, origins: readonly string[]): Handler {
  return async (request, server) => {
    const cors = corsHeaders(request, origins);
    const response =
      request.method === 'OPTIONS'
        ? new Response(null, { status: 204, headers: cors['access-control-allow-origin'] ? PREFLIGHT : {} })
        : await handler(request, server);
    for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
    return response;
  };
}
