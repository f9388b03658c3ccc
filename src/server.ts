import type { IncomingMessage, RequestListener } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { createRestHandler, createRestReads } from '../rest-compat/index.js';
import { authenticateRequest } from './auth/credentials.js';
import { readDeclaredBody, withBodyLimit } from './http/body-limit.js';
import { isJsonContentType } from './http/json-body.js';
import { withCors } from './http/cors.js';
import { createDevicesPage } from './http/devices-page.js';
import { httpErrorOf, notFound, unsupportedMediaType } from './errors.js';
import { maskUnexpectedError } from './graphql/error-codes.js';
import { graphiqlOptions } from './graphql/graphiql.js';
import { graphqlPlugins } from './graphql/limits.js';
import { useIgnoreUnknownParams } from './graphql/params.js';
import { checkHealth } from './http/health.js';
import type { Handler, ServerContext } from './http/handler.js';
import { createNodeReads } from './http/node-reads.js';
import { readRequestInfo, wantsEventStream } from './http/request-info.js';
import { withRequestLog } from './http/request-log.js';
import { sendResponse } from './streams/sse.js';
import { errorResponse, json } from './http/responses.js';
import { withSecurityHeaders } from './http/security-headers.js';
import { schema, type Context } from './schema/index.js';
import type { Services } from './services.js';
import { useStreamDelivery } from './streams/graphql.js';

/** Node's request listener (src/main.ts hands it to the HTTP server). */
export type App = RequestListener;

function createGraphQL(services: Services, direct: Plugin): YogaServerInstance<ServerContext, Context> {
  const { config, log } = services;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // withBodyLimit (src/http/body-limit.ts) has already bounded every body at
    // 100 kB; Yoga's own 25 MB check piped each POST body through a stream
    // transform, a tenth of a GraphQL read's CPU (measured). The malformed
    // Content-Length it refuses never gets past Node's HTTP parser.
    maxRequestBodySize: false,
    // Document limits and the contract's error codes (src/graphql/limits.ts).
    plugins: [direct, useIgnoreUnknownParams(), ...graphqlPlugins(config), useStreamDelivery(services.heartbeat, log)],
    // GRAPHIQL: on in development, off in production unless the operator turns it on.
    ...graphiqlOptions(config.graphiql),
    maskedErrors: {
      // Never attach stacks or original messages, whatever NODE_ENV says.
      isDev: false,
      maskError: maskUnexpectedError,
    },
    // CORS is answered for every path at once (src/http/cors.ts).
    cors: false,
    logging: {
      // Yoga logs at debug three times per request: build nothing unless someone reads it.
      debug: (...args: unknown[]) => log.isLevelEnabled('debug') && log.debug({ args: args.map(String) }, 'yoga'),
      info: (...args: unknown[]) => log.info({ args: args.map(String) }, 'yoga'),
      warn: (...args: unknown[]) => log.warn({ args: args.map(String) }, 'yoga'),
      error: (...args: unknown[]) => log.error({ args: args.map((a) => (a instanceof Error ? a.stack : String(a))) }, 'yoga'),
    },
    context: async ({ request, req }): Promise<Context> => {
      const auth = await authenticateRequest(services, request);
      return {
        services,
        auth,
        viewer: auth.request.viewer,
        subscriber: auth.stream.viewer,
        client: readRequestInfo(request, { req }, config.trustProxy),
        signal: request.signal,
        request,
      };
    },
  });
}

/**
 * The whole HTTP surface (`/graphql`, `/api/*`, `/health`, `/devices`): one
 * fetch handler behind the stages every answer passes. Two kinds of request
 * take a shorter way to the same answers: the plain REST reads
 * (src/http/node-reads.ts) and `POST /graphql`, handed to Yoga's own adapter
 * (useDirectRequests). It never listens: src/main.ts does, and tests start it on port 0.
 */
export function createApp(services: Services): App {
  const { config, log } = services;
  // Every answer passes these, outermost first: the request log, the security headers, CORS.
  const stages = (inner: Handler): Handler => withRequestLog(withSecurityHeaders(withCors(inner, config.corsOrigins), config), log);

  // `/graphql` after the stages: the body limit, CSRF, then Yoga's own handling (`handle`).
  const graphqlRoute =
    (handle: Handler): Handler =>
    async (request, serverContext) => {
      let limited: Request;
      try {
        limited = await withBodyLimit(request, yoga.fetchAPI.Request);
      } catch (error) {
        return closing(graphqlError(error));
      }
      // CSRF: a POST must be JSON, which no cross-site form can send without a
      // preflight. (Yoga's CSRF-prevention plugin would also refuse the GET an
      // EventSource makes for a subscription, which cannot add headers.)
      if (request.method === 'POST' && !isJsonContentType(limited)) return graphqlError(unsupportedMediaType());
      return handle(limited, serverContext);
    };
  const direct = new WeakSet<IncomingMessage>();
  const yoga = createGraphQL(services, useDirectRequests(direct, (handle) => stages(graphqlRoute(handle))));
  // Only what the context reads (src/http/handler.ts): Yoga copies every
  // property of the server context it is given, accessors and all, per request.
  const graphqlThroughApp = graphqlRoute(async (request, serverContext) => yoga.fetch(request, { req: serverContext.req }));
  const rest = createRestHandler(services);
  const devicesPage = createDevicesPage();

  const route: Handler = async (request, serverContext) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/health') {
      const report = await checkHealth(services);
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    if (pathname === '/devices' && (request.method === 'GET' || request.method === 'HEAD')) return devicesPage();
    if (pathname === '/graphql') return graphqlThroughApp(request, serverContext);
    if (!pathname.startsWith('/api/')) {
      return errorResponse(notFound(`No route for ${request.method} ${pathname}`), log);
    }
    let limited: Request;
    try {
      limited = await withBodyLimit(request, yoga.fetchAPI.Request);
    } catch (error) {
      return closing(errorResponse(error, log));
    }
    return rest(limited, serverContext);
  };

  const adapter = createServerAdapter<ServerContext>(stages(route));
  const reads = createNodeReads({ find: createRestReads(services), corsOrigins: config.corsOrigins, trustProxy: config.trustProxy, log });
  return (req, res) => {
    if (reads(req, res)) return;
    // GraphQL over SSE: the same pipeline, but a stream it answers with is
    // written to the socket directly (src/streams/sse.ts), so an open
    // subscription holds neither a fetch body nor the request it came with.
    if (isGraphQLPath(req.url) && wantsEventStream(req.headers.accept)) {
      readDeclaredBody(req)
        .then((body) => {
          if (body !== null) Object.assign(req, { body });
          return adapter.handleNodeRequestAndResponse(req, res, { req });
        })
        .then((response) => sendResponse(response, res))
        .catch((error: unknown) => {
          // A client that left mid-body is no failure of the server's.
          if (!req.destroyed) log.error({ err: (error as Error).message }, 'GraphQL stream failed');
          res.destroy();
        });
      return;
    }
    // GraphQL's own requests go to Yoga's server adapter straight away, which
    // runs the same stages (useDirectRequests): one fetch adapter per request
    // instead of two nested, as much as a tenth of a GraphQL read (measured).
    // Anything less plain (a query string, GET, a subscription's GET) takes the general way.
    if (req.method === 'POST' && req.url === '/graphql') {
      direct.add(req);
      void yoga(req, res);
      return;
    }
    void adapter(req, res);
  };
}

const isGraphQLPath = (url: string | undefined): boolean => url === '/graphql' || (url?.startsWith('/graphql?') ?? false);

/** The rest of an oversized body is never read, so the connection cannot carry another request. */
function closing(response: Response): Response {
  response.headers.set('connection', 'close');
  return response;
}

/**
 * For a request the node listener handed to Yoga itself: wraps Yoga's request
 * handler in the app's stages (`wrap`), so that it is answered exactly as
 * through the app's adapter. Yoga's hooks that may answer before this one
 * (its health check, GraphiQL) answer only GETs or other paths, never these.
 */
function useDirectRequests(direct: WeakSet<IncomingMessage>, wrap: (handle: Handler) => Handler): Plugin {
  return {
    onRequest({ serverContext, requestHandler, setRequestHandler }) {
      const req = (serverContext as ServerContext | undefined)?.req;
      if (!req || !direct.has(req)) return;
      const wrapped = wrap(async (request) => requestHandler(request, serverContext));
      setRequestHandler((request) => wrapped(request, { req }));
    },
  };
}

/** A request-level failure in GraphQL's shape (`errors` with the contract's code). */
function graphqlError(error: unknown): Response {
  const { status, code, message, headers } = httpErrorOf(error);
  return json(status, { errors: [{ message, extensions: { code } }] }, headers);
}
