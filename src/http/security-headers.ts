import type { Handler } from './handler.js';

/**
 * Headers every response carries. The API serves JSON and event streams, so it
 * forbids framing and sniffing outright; GraphiQL (HTML) is left to load its
 * assets. HSTS only where the client reached us over TLS: sent over plain HTTP
 * it would be ignored at best, and would pin a local development host at worst.
 */
export function withSecurityHeaders(handler: Handler, options: { trustProxy: boolean }): Handler {
  return async (request, server) => {
    const response = await handler(request, server);
    const headers = response.headers;
    headers.set('x-content-type-options', 'nosniff');
    headers.set('x-frame-options', 'DENY');
    headers.set('referrer-policy', 'no-referrer');
    headers.set('cross-origin-resource-policy', 'same-site');
    if (!(headers.get('content-type') ?? '').startsWith('text/html')) {
      headers.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    }
    const proto = options.trustProxy ? request.headers.get('x-forwarded-proto') : null;
    if (request.url.startsWith('https:') || proto === 'https') {
      headers.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
    }
    return response;
  };
}
