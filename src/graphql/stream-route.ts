import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { authenticateRequest, authFailure, requireViewer, type RequestAuth } from '../auth/credentials.js';
import { type AppError, badInput, notFound, unauthenticated } from '../errors.js';
import type { Handler, ServerContext } from '../http/handler.js';
import { wantsEventStream } from '../http/request-info.js';
import type { Services } from '../services.js';
import { STREAM_TOKEN_HEADER, STREAM_TOKEN_PARAM, type StreamConnections } from '../streams/connection.js';
import { StreamResponse } from '../streams/sse.js';
import { toGraphQLError } from './error-codes.js';

export interface StreamRouteOptions {
  services: Services;
  connections: StreamConnections;
  /** Yoga's own handling of a request (its plugins, limits, auth scopes and our delivery), past the route's body limit and CSRF check. */
  execute: Handler;
  /** A refused request in GraphQL's shape (src/server.ts). */
  refuse: (error: unknown) => Response;
  /** The Response and Request classes of the server adapter. */
  Response: typeof Response;
  Request: typeof Request;
}

const ALLOW = 'GET, POST, PUT, DELETE';

/**
 * `/graphql/stream`: graphql-sse's protocol (its PROTOCOL.md), both modes.
 * - `PUT` reserves a connection (src/streams/connection.ts) for the session of
 *   the `Authorization: Bearer` token: 201 with the stream token as text.
 * - `GET` (or `POST`) with `Accept: text/event-stream` and the stream token
 *   (`X-GraphQL-Event-Stream-Token`, or `?token=` for a client that cannot set
 *   headers) opens it; once only. The stream token is what authenticates this
 *   request: it was given to that session, and opens that one stream, nothing else.
 * - `POST` of an operation with the stream token and `extensions.operationId`:
 *   executed by Yoga like any `/graphql` request, with its own credentials
 *   (which must be those of the connection's session), its results written on
 *   the connection; 202.
 * - `DELETE ?operationId=` with the stream token stops an operation.
 * - A stream request without a stream token is a distinct connection, as on `/graphql`.
 */
export function createStreamRoute(options: StreamRouteOptions): Handler {
  const { services, connections, execute, refuse, Response, Request } = options;
  /**
   * The request as Yoga's `/graphql` sees it, with SSE. An operation's URL
   * parameters are dropped: a stream token there would be read as a JWT.
   */
  const asGraphQL = (request: Request, body: string | null, search: string): Request => {
    const headers = new Headers(request.headers);
    headers.delete(STREAM_TOKEN_HEADER);
    headers.set('accept', 'text/event-stream');
    return new Request(new URL(`/graphql${search}`, request.url), { method: request.method, headers, body });
  };

  const handle: Handler = async (request, server) => {
    const url = new URL(request.url);
    const token = request.headers.get(STREAM_TOKEN_HEADER) ?? url.searchParams.get(STREAM_TOKEN_PARAM);
    const method = request.method;
    if (method === 'PUT') {
      const auth = await authenticateRequest(services, request);
      const viewer = requireViewer(auth, 'request');
      const reserved = await connections.reserve(viewer, auth.authenticatedAt);
      return new Response(reserved, { status: 201, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
    }
    if (method === 'DELETE') {
      const connection = connections.find(token);
      const id = url.searchParams.get('operationId');
      if (!id) throw badInput('operationId', 'operationId is missing');
      connection.cancel(id);
      return new Response(null, { status: 200 });
    }
    if (method !== 'GET' && method !== 'POST') {
      const refused = refuse(notFound(`No route for ${method} /graphql/stream`));
      refused.headers.set('allow', ALLOW);
      return refused;
    }
    if (wantsEventStream(request.headers.get('accept'))) {
      if (token !== null) return new StreamResponse(connections.find(token).open());
      return execute(asGraphQL(request, method === 'POST' ? await request.text() : null, url.search), server);
    }
    if (method !== 'POST') throw badInput('accept', 'Operations are POSTed; the event stream is read with Accept: text/event-stream');
    const connection = connections.find(token);
    const body = await request.text();
    const operation = connection.operation(operationIdOf(body));
    try {
      return await execute(asGraphQL(request, body, ''), { ...server, operation });
    } finally {
      operation.settle();
    }
  };
  return async (request, server) => {
    try {
      return await handle(request, server);
    } catch (error) {
      return refuse(error);
    }
  };
}

/** `extensions.operationId` of a JSON body; Yoga checks the rest of it. */
function operationIdOf(body: string): unknown {
  let params: unknown;
  try {
    params = JSON.parse(body);
  } catch {
    throw badInput('body', 'The body must be a JSON object');
  }
  if (params === null || typeof params !== 'object') throw badInput('body', 'The body must be a JSON object');
  const extensions = (params as { extensions?: unknown }).extensions;
  return extensions !== null && typeof extensions === 'object' ? (extensions as { operationId?: unknown }).operationId : undefined;
}

/**
 * An operation on a connection runs with its own credentials, like any
 * request, and they must be those of the session that reserved the
 * connection: its results are written to that session's stream.
 */
export function useConnectionOwner(): Plugin<{ auth: RequestAuth } & ServerContext> {
  const check = (context: { auth: RequestAuth } & ServerContext): AppError | null => {
    const { operation } = context;
    if (!operation) return null;
    const viewer = context.auth.stream.viewer;
    if (viewer === null) return authFailure(context.auth, 'stream');
    if (viewer.userId !== operation.owner.userId || viewer.sessionId !== operation.owner.sessionId) return unauthenticated();
    return null;
  };
  // The same check before a subscription and before a query or mutation.
  const refuse = ({ args, setResultAndStopExecution }: { args: { contextValue: Parameters<typeof check>[0] }; setResultAndStopExecution: (result: ExecutionResult) => void }): void => {
    const refusal = check(args.contextValue);
    if (refusal) setResultAndStopExecution({ errors: [toGraphQLError(refusal)] });
  };
  return { onSubscribe: refuse, onExecute: refuse };
}
