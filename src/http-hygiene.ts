import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from './logger.js';
import { loggableRoute } from './logger.js';
import type { ServerContext } from './request-info.js';

export type Handler = (request: Request, server: ServerContext) => Promise<Response>;

const REQUEST_ID = /^[\w.-]{1,64}$/;

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

/**
 * One JSON line per request: id, method, route, status, duration (to the
 * response head; an event stream goes on after it). The URL is logged as
 * loggableRoute says (path and query keys, no values), and no header or body
 * is logged at all.
 */
export function withRequestLog(handler: Handler, log: Logger): Handler {
  return async (request, server) => {
    const started = performance.now();
    const given = request.headers.get('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    const url = new URL(request.url);
    const entry = { reqId: id, method: request.method, route: loggableRoute(url) };
    let response: Response;
    try {
      response = await handler(request, server);
    } catch (error) {
      log.error({ ...entry, err: error instanceof Error ? error.message : String(error) }, 'request failed');
      throw error;
    }
    response.headers.set('x-request-id', id);
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const level = response.status >= 500 ? 'error' : response.status >= 400 ? 'warn' : 'info';
    log[level]({ ...entry, status: response.status, durationMs }, 'request');
    return response;
  };
}

/** How long a client may take: the README's figures. */
export interface HttpTimeouts {
  /** To send the request line and headers. */
  headersMs: number;
  /** To send the whole request, body included. Responses (event streams) are not bounded. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 };

/**
 * Node's HTTP server with timeouts an exposed auth server needs, so that a
 * slowloris holds no socket longer than they say. Node enforces the header and
 * request timeouts only when it sweeps its connections, every 30 s by default,
 * which made "10 s" really 35 s: the sweep runs every second here (a tenth of
 * the header timeout when that is shorter), so a stalled client is cut at most
 * that long after its limit.
 */
export function createHttpServer(listener: RequestListener, timeouts: HttpTimeouts = HTTP_TIMEOUTS): Server {
  return createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(timeouts.headersMs / 10)),
    },
    listener,
  );
}
