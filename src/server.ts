import { createServerAdapter, type ServerAdapter } from '@whatwg-node/server';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { errorResponse, json } from '../rest-compat/http.js';
import { createRestHandler } from '../rest-compat/index.js';
import { AppError, notFound } from './errors.js';
import { graphqlPlugins } from './graphql-limits.js';
import { checkHealth } from './health.js';
import { withRequestLog, withSecurityHeaders, type Handler } from './http-hygiene.js';
import { redactUrl } from './logger.js';
import { authenticate } from './resolvers/authenticate.js';
import { readBearerToken, readRequestInfo, wantsEventStream, type ServerContext } from './request-info.js';
import { schema, type Context } from './schema/index.js';
import type { Services } from './services.js';

export type App = ServerAdapter<ServerContext, { handle: (request: Request, ctx: ServerContext) => Promise<Response> }>;

/**
 * Ends a subscription whose client has gone. Yoga stops a stream it is sending
 * when the socket closes, but a client that leaves while the subscription is
 * being set up (authenticated, subscribed to Redis, replaying what it missed)
 * makes Yoga abandon the result it then gets: without this the Redis
 * subscription and its timers would live until the session ends.
 *
 * The context's `request` is our RequestInfo, which shadows Yoga's Request, so
 * the request's signal is looked up by that per-request object.
 */
function useEndStreamsOfGoneClients(signals: WeakMap<object, AbortSignal>): Plugin<Context> {
  return {
    onSubscribe({ args }) {
      const signal = signals.get(args.contextValue.request);
      return {
        onSubscribeResult({ result }) {
          if (!signal || !isAsyncIterable(result)) return;
          const end = (): void => void result[Symbol.asyncIterator]().return?.();
          if (signal.aborted) end();
          else signal.addEventListener('abort', end, { once: true });
        },
      };
    },
  };
}

function createGraphQL(services: Services): YogaServerInstance<ServerContext, Context> {
  const { config, log } = services;
  const signals = new WeakMap<object, AbortSignal>();
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Document limits and contract error codes (src/graphql-limits.ts), then stream clean-up.
    plugins: [...graphqlPlugins(config), useEndStreamsOfGoneClients(signals)],
    graphiql: { title: 'logout-all', subscriptionsProtocol: 'SSE' },
    // Never attach stacks or original messages to errors, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    // CORS is answered for every path at once in createApp, from CORS_ORIGINS.
    cors: false,
    logging: {
      debug: (...args: unknown[]) => log.debug({ args: args.map(String) }, 'yoga'),
      info: (...args: unknown[]) => log.info({ args: args.map(String) }, 'yoga'),
      warn: (...args: unknown[]) => log.warn({ args: args.map(String) }, 'yoga'),
      error: (...args: unknown[]) => log.error({ args: args.map((a) => (a instanceof Error ? a.stack : String(a))) }, 'yoga'),
    },
    context: async ({ request, req, clientIp }): Promise<Context> => {
      // Taken before the session check: the subscription replays revocations from this instant.
      const authenticatedAt = new Date();
      const token = readBearerToken(request, { allowQueryToken: wantsEventStream(request) });
      const info = readRequestInfo(request, { req, clientIp }, config.trustProxy);
      signals.set(info, request.signal);
      return { services, auth: await authenticate(services, token), request: info, authenticatedAt };
    },
  });
}

/**
 * Request bodies over this are refused with 413 before anything parses them.
 * Yoga's own limit (25 MB by default, with a code outside the contract) never comes into play.
 */
export const MAX_BODY_BYTES = 100 * 1024;

/**
 * The whole body, or null when it is over `limit`. Bytes are counted as they
 * arrive: a chunked body declares no length, so Content-Length is only a shortcut.
 */
async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) return null;
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > limit) {
      // Stop reading; the response asks the client to close the connection (see tooLarge).
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
}

/** 413 in the shape the client speaks: GraphQL errors on /graphql, REST errors elsewhere. */
function tooLarge(graphql: boolean, services: Services): Response {
  const error = new AppError('PAYLOAD_TOO_LARGE');
  const response = graphql
    ? json(413, { errors: [{ message: error.message, extensions: { code: error.code } }] })
    : errorResponse(error, services.log);
  // The rest of an oversized body is never read, so the connection cannot carry another request.
  response.headers.set('connection', 'close');
  return response;
}

const CORS_PREFLIGHT = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  // last-event-id: a reconnecting EventSource sends it.
  'access-control-allow-headers': 'authorization, content-type, accept, last-event-id',
  'access-control-max-age': '600',
};

/**
 * CORS_ORIGINS for every path (GraphQL, REST, health). No credentials mode:
 * tokens travel in headers, never in cookies, so `*` cannot leak a session.
 */
function corsHeaders(request: Request, origins: readonly string[]): Record<string, string> {
  const anyOrigin = origins.includes('*');
  // A listed origin is echoed, so caches must keep answers for different origins apart.
  const headers: Record<string, string> = anyOrigin ? {} : { vary: 'Origin' };
  const origin = request.headers.get('origin');
  if (origin === null || !(anyOrigin || origins.includes(origin))) return headers;
  headers['access-control-allow-origin'] = anyOrigin ? '*' : origin;
  headers['access-control-expose-headers'] = 'retry-after, www-authenticate, allow, x-request-id';
  return headers;
}

/**
 * The whole HTTP surface as one fetch handler (`/graphql`, `/api/*`,
 * `/health`). It never listens: src/main.ts does, and tests start it on port 0.
 */
export function createApp(services: Services): App {
  const yoga = createGraphQL(services);
  const rest = createRestHandler(services);

  /** The request with its body read under the limit (for Yoga and REST alike), or a 413. */
  const limitBody = async (request: Request, graphql: boolean): Promise<Request | Response> => {
    if (request.method === 'GET' || request.method === 'HEAD') return request;
    let body: Uint8Array<ArrayBuffer> | null;
    try {
      body = await readBodyWithin(request, MAX_BODY_BYTES);
    } catch {
      // The client went away mid-body; nobody reads this answer.
      return errorResponse(new AppError('BAD_USER_INPUT', 'The request body could not be read'), services.log);
    }
    if (body === null) return tooLarge(graphql, services);
    // The signal goes along: Yoga and the events route stop streams when the client disconnects.
    return new yoga.fetchAPI.Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal });
  };

  const route = async (request: Request, serverContext: ServerContext): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === '/health') {
      const report = await checkHealth(services);
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    const graphql = url.pathname === '/graphql';
    if (graphql || url.pathname.startsWith('/api/')) {
      const limited = await limitBody(request, graphql);
      if (limited instanceof Response) return limited;
      return graphql ? yoga.fetch(limited, serverContext) : rest(limited, serverContext);
    }
    services.log.debug({ url: redactUrl(request.url) }, 'no route');
    return errorResponse(notFound(`No route for ${request.method} ${url.pathname}`), services.log);
  };

  const withCors: Handler = async (request, serverContext) => {
    const cors = corsHeaders(request, services.config.corsOrigins);
    const response =
      request.method === 'OPTIONS'
        ? new Response(null, { status: 204, headers: cors['access-control-allow-origin'] ? CORS_PREFLIGHT : {} })
        : await route(request, serverContext);
    for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
    return response;
  };
  const handler = withRequestLog(withSecurityHeaders(withCors, { trustProxy: services.config.trustProxy }), services.log);
  return createServerAdapter<ServerContext>(handler) as unknown as App;
}
