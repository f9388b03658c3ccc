import { createServer, type RequestListener, type Server } from 'node:http';
import type { Streams } from '../streams.js';

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
