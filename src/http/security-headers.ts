import type { RequestHead } from './handler.js';

/**
 * Headers every response carries. The API serves JSON and event streams, so it
 * forbids framing and sniffing outright; GraphiQL (HTML) is left to load its
 * assets. HSTS only where the client reached us over TLS: sent over plain HTTP
 * it would be ignored at best, and would pin a local development host at worst.
 */
export function securityHeaders(request: RequestHead, contentType: string | null, options: { trustProxy: number }): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-site',
  };
  if (!(contentType ?? '').startsWith('text/html')) {
    headers['content-security-policy'] = "default-src 'none'; frame-ancestors 'none'";
  }
  const proto = options.trustProxy > 0 ? request.headers.get('x-forwarded-proto') : null;
  if (request.url.startsWith('https:') || proto === 'https') {
    headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  }
  return headers;
}
