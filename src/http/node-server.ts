import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * Node's HTTP server with timeouts an exposed auth server needs: a client gets
 * 10 s to send its headers and 30 s for the whole request (a slowloris holds
 * no socket longer). Responses, event streams included, are not cut.
 */
export function createHttpServer(listener: RequestListener): Server {
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, listener);
  return server;
}
