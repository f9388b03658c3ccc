import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from './logger.js';
import { redactUrl } from './logger.js';
import type { ServerContext } from './request-info.js';
import type { Streams } from './streams.js';

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
 * response head; an event stream goes on after it). The URL is logged with any
 * `token=` redacted, and no header or body is logged at all.
 */
export function withRequestLog(handler: Handler, log: Logger): Handler {
  return async (request, server) => {
    const started = performance.now();
    const given = request.headers.get('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    const url = new URL(request.url);
    const entry = { reqId: id, method: request.method, route: redactUrl(`${url.pathname}${url.search}`) };
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

/**
 * Node's HTTP server with timeouts an exposed auth server needs: a client gets
 * 10 s to send its headers and 30 s for the whole request (a slowloris holds
 * no socket longer). Responses, event streams included, are not cut.
 */
export function createHttpServer(listener: RequestListener): Server {
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, listener);
  return server;
}

/**
 * A graceful stop (SIGTERM): stop accepting connections, end every event
 * stream cleanly (GraphQL sends `complete`, REST ends its response), let
 * in-flight requests finish, and cut whatever is still open after `timeoutMs`.
 * Resolves once the server has closed.
 */
export async function drainServer(server: Server, streams: Streams, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  streams.stopAll();
  // Keep-alive connections go as soon as they are idle: those of ended streams and finished requests.
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const cut = setTimeout(() => server.closeAllConnections(), timeoutMs);
  server.closeIdleConnections();
  try {
    await closed;
  } finally {
    clearInterval(idle);
    clearTimeout(cut);
  }
}
