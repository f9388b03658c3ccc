import { authenticateRequest, requireViewer, type Transport } from '../src/auth/credentials.js';
import type { Viewer } from '../src/auth/viewer.js';
import type { RequestHead, ServerContext } from '../src/http/handler.js';
import { readRequestInfo } from '../src/http/request-info.js';
import { toResponse, type JsonReply } from '../src/http/responses.js';
import type { Services } from '../src/services.js';
import { StreamResponse, type StreamReply } from '../src/streams/sse.js';
import type { Json } from './shapes.js';

/** What a REST route is, and the authentication every route states the same way (rest-compat/routes.ts, rest-compat/session-routes.ts). */

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ReadContext {
  request: RequestHead;
  /** Path parameters by name (`:id`), already percent-decoded. */
  params: Record<string, string>;
  services: Services;
  server: ServerContext;
}

export interface RouteContext extends ReadContext {
  request: Request;
}

export interface Route {
  method: Method;
  /** `/api/auth/sessions/:id`: literal segments and `:name` parameters. */
  path: string;
  /** Its operation in GET /api/openapi.json, which is built from this table. */
  doc: Json;
  handle: (c: RouteContext) => Promise<Response> | Response;
  /**
   * A plain read (GET, no body: a JSON answer or an event stream) also states
   * its answer before it is a Response: `handle` is that answer as a Response,
   * and the node fast path (src/http/node-reads.ts) writes it without building
   * a fetch Request.
   * Throws what `handle` throws.
   */
  read?: (c: ReadContext) => Promise<JsonReply | StreamReply>;
}

/** Where the request came from, recorded on the session it opens (socket address; X-Forwarded-For only with TRUST_PROXY). */
export const requestInfo = (c: ReadContext) => readRequestInfo(c.request, c.server, c.services.config.trustProxy);

/**
 * "Needs a viewer", stated once for REST: the handler runs only for an
 * authenticated caller (else UNAUTHENTICATED / SERVICE_UNAVAILABLE), before any
 * body is read, so an anonymous caller learns nothing about input rules.
 * `request` routes take the Bearer header only (tokens in URLs end up in logs);
 * the `stream` route also takes `?token=`, since EventSource cannot set headers.
 */
export function authenticated(
  transport: Transport,
  handle: (c: RouteContext, viewer: Viewer, authenticatedAt: Date) => Promise<Response>,
): Route['handle'] {
  return async (c) => {
    const auth = await authenticateRequest(c.services, c.request);
    return handle(c, requireViewer(auth, transport), auth.authenticatedAt);
  };
}

/** `authenticated` for a plain JSON read: `read` and `handle` of its route. */
export function authenticatedRead(handle: (c: ReadContext, viewer: Viewer) => Promise<JsonReply>): Pick<Route, 'read' | 'handle'> {
  const read = async (c: ReadContext): Promise<JsonReply> => {
    const auth = await authenticateRequest(c.services, c.request);
    return handle(c, requireViewer(auth, 'request'));
  };
  return { read, handle: async (c) => toResponse(await read(c)) };
}

/** `authenticated` for an event stream (`?token=` allowed): `read` and `handle` of its route. */
export function authenticatedStream(
  open: (c: ReadContext, viewer: Viewer, authenticatedAt: Date) => Promise<StreamReply>,
): Pick<Route, 'read' | 'handle'> {
  const read = async (c: ReadContext): Promise<StreamReply> => {
    // Opening a stream is not activity: a device left on an events page still idles out.
    const auth = await authenticateRequest(c.services, c.request, false);
    return open(c, requireViewer(auth, 'stream'), auth.authenticatedAt);
  };
  return { read, handle: async (c) => new StreamResponse(await read(c)) };
}

