import type { IncomingMessage } from 'node:http';
import type { ConnectionOperation } from '../streams/connection.js';

/**
 * What the HTTP server hands each request besides the Request itself: Node's
 * adapter (and Bun's node:http) passes `req`, whose socket gives the client's address.
 */
export interface ServerContext {
  req?: IncomingMessage;
  /** Handed to Yoga's own adapter by the Node listener, which then runs the app's pipeline itself (src/server.ts). */
  direct?: true;
  /** An operation POSTed to a single connection (src/graphql/stream-route.ts): its results go there. */
  operation?: ConnectionOperation;
}

/** One stage of the HTTP pipeline: the app, or a wrapper around it (cors, security headers, request log). */
export type Handler = (request: Request, server: ServerContext) => Promise<Response>;

/**
 * What reading credentials, the client's address, CORS and the request log
 * need of a request: a fetch Request has it, and so has the node fast path's
 * view of a bodiless GET (src/http/node-reads.ts).
 */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}
