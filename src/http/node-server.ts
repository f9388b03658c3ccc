import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config.js';
import type { Streams } from '../streams/leases.js';

/** How long a client may take (HTTP_HEADERS_TIMEOUT, HTTP_REQUEST_TIMEOUT, HTTP_KEEPALIVE_TIMEOUT). */
export interface HttpTimeouts {
  /** To send the request line and headers. */
  headersMs: number;
  /** To send the whole request, body included. Responses (event streams) are not bounded. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
}

export const httpTimeouts = (config: Pick<Config, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs'>): HttpTimeouts => ({
  headersMs: config.httpHeadersTimeoutMs,
  requestMs: config.httpRequestTimeoutMs,
  keepAliveMs: config.httpKeepAliveTimeoutMs,
});

/**
 * Node's HTTP server with timeouts an exposed auth server needs, so that a
 * slowloris holds no socket longer than they say. Node enforces the header and
 * request timeouts only when it sweeps its connections, every 30 s by default,
 * which made "10 s" really 35 s: the sweep runs every second here (a tenth of
 * the header timeout when that is shorter), so a stalled client is cut at most
 * that long after its limit.
 */
export function createHttpServer(listener: RequestListener, timeouts: HttpTimeouts): Server {
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
