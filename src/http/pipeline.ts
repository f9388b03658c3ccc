import type { Logger } from '../logger.js';
import { corsHeaders, preflight } from './cors.js';
import type { Handler, RequestHead } from './handler.js';
import { requestLog } from './request-log.js';
import { securityHeaders } from './security-headers.js';

export interface PipelineOptions {
  log: Logger;
  corsOrigins: readonly string[];
  trustProxy: number;
}

/** One request's passage through the layers every answer passes. */
export interface Exchange {
  /** The client's X-Request-Id when it is well-formed, else a new one. */
  readonly id: string;
  /** The headers every answer carries, in this order: CORS, security, the request id. */
  headers(contentType: string | null): Record<string, string>;
  /** Writes the request's log line, once the answer's head is ready. */
  answered(status: number): void;
  failed(error: unknown): void;
}

export interface Pipeline {
  /** Opens the request's exchange: for a way in that writes its answer itself (src/http/node-reads.ts). */
  begin(request: RequestHead, url: URL): Exchange;
  /** A fetch handler inside the layers: CORS preflight, the headers of `Exchange`, the request log. */
  wrap(handler: Handler): Handler;
}

/**
 * The layers every answer passes, whichever way it takes in (src/server.ts):
 * the request log (one line, no header or body), CORS (CORS_ORIGINS), the
 * security headers, and the request id. One place composes them; a way in
 * that writes to Node's response itself calls `begin` and writes what it says.
 */
export function createPipeline({ log, corsOrigins, trustProxy }: PipelineOptions): Pipeline {
  const openLine = requestLog(log);
  const begin = (request: RequestHead, url: URL): Exchange => {
    const line = openLine(request, url);
    return {
      id: line.id,
      headers: (contentType) => ({
        ...corsHeaders(request, corsOrigins),
        ...securityHeaders(request, contentType, { trustProxy }),
        'x-request-id': line.id,
      }),
      answered: (status) => line.answered(status),
      failed: (error) => line.failed(error),
    };
  };
  return {
    begin,
    wrap: (handler) => async (request, server) => {
      const exchange = begin(request, new URL(request.url));
      let response: Response;
      try {
        response = request.method === 'OPTIONS' ? preflight(request, corsOrigins) : await handler(request, server);
      } catch (error) {
        exchange.failed(error);
        throw error;
      }
      for (const [name, value] of Object.entries(exchange.headers(response.headers.get('content-type')))) response.headers.set(name, value);
      exchange.answered(response.status);
      return response;
    },
  };
}
