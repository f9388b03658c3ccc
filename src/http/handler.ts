import type { IncomingMessage } from 'node:http';

/**
 * What the HTTP server hands each request besides the Request itself: Node's
 * adapter passes `req`; other runtimes (Bun) pass `clientIp`.
 */
export interface ServerContext {
  req?: IncomingMessage;
  clientIp?: string;
}

/** One stage of the HTTP pipeline: the app, or a wrapper around it (cors, security headers, request log). */
export type Handler = (request: Request, server: ServerContext) => Promise<Response>;
