import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServerAdapter, sendNodeResponse } from '@whatwg-node/server';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { createRestHandler, createRestReads } from '../rest-compat/index.js';
import { createAdminHandler, isAdminPath } from '../rest-compat/admin.js';
import { authenticateRequest } from './auth/credentials.js';
import { lingerAfterRefusal, mayBeRefusedBody, readDeclaredBody, withBodyLimit } from './http/body-limit.js';
import { isJsonContentType } from './http/json-body.js';
import { createDevicesPage } from './http/devices-page.js';
import { httpErrorOf, notFound, unsupportedMediaType } from './errors.js';
import { maskUnexpectedError } from './graphql/error-codes.js';
import { yogaErrorLog } from './graphql/error-log.js';
import { graphiqlOptions } from './graphql/graphiql.js';
import { graphqlPlugins } from './graphql/limits.js';
import { useIgnoreUnknownParams } from './graphql/params.js';
import { createStreamRoute, useConnectionOwner } from './graphql/stream-route.js';
import { checkHealth, checkReadiness } from './http/health.js';
import { jwksReply } from './http/jwks.js';
import type { Handler, ServerContext } from './http/handler.js';
import { createNodeReads } from './http/node-reads.js';
import { readRequestInfo, wantsEventStream } from './http/request-info.js';
import { createPipeline } from './http/pipeline.js';
import { StreamResponse, writeStreamResponse } from './streams/sse.js';
import { errorResponse, json, toResponse } from './http/responses.js';
import { schema, type Context } from './schema/index.js';
import type { Services } from './services.js';
import { StreamConnections } from './streams/connection.js';
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
    // 100 kB; Yoga's own 25 MB check would pipe each POST body through a stream
    // transform again, CPU time on every request for nothing. The malformed
    // Content-Length it refuses never gets past Node's HTTP parser.
    maxRequestBodySize: false,
    // Document limits and the contract's error codes (src/graphql/limits.ts).
    plugins: [direct, useIgnoreUnknownParams(), ...graphqlPlugins(config), useConnectionOwner(), useStreamDelivery(services.heartbeat, log, services.metrics)],
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
      // Client errors are no server errors (src/graphql/error-log.ts).
      error: yogaErrorLog(log),
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
 * The whole HTTP surface (`/graphql`, `/api/*`, `/health`, `/livez`, `/readyz`,
 * `/devices`,
 * `/.well-known/jwks.json`): one fetch handler inside the pipeline every
 * answer passes (src/http/pipeline.ts).
 * It never listens: src/main.ts does, and tests start it on port 0.
 *
 * A request comes in one of three ways, each through the same pipeline:
 * - the plain REST reads (bodiless GETs: `me`, `sessions`, the events stream)
 *   on Node's own request and response (src/http/node-reads.ts): no fetch
 *   Request or Response is built;
 * - `POST /graphql` other than a subscription, to Yoga's own server adapter,
 *   which runs the pipeline around its handler (useDirectRequests): one fetch
 *   adapter per request instead of two nested;
 * - everything else through the app's adapter. An event stream (a
 *   StreamResponse) is written to the socket directly (src/streams/sse.ts), so
 *   an open stream holds neither a fetch body nor the request it came with.
 */
export function createApp(services: Services): App {
  const { config, log } = services;
  const pipeline = createPipeline({ log, corsOrigins: config.corsOrigins, trustProxy: config.trustProxy });

  /** The handler, given the request with its body read under the limit; a refused body closes the connection. */
  const bodyLimited =
    (refuse: (error: unknown) => Response, handle: Handler): Handler =>
    async (request, server) => {
      let within: Request;
      try {
        within = await withBodyLimit(request, yoga.fetchAPI.Request);
      } catch (error) {
        // The rest of the body is read and discarded after the answer (lingerAfterRefusal), then the connection goes on.
        return refuse(error);
      }
      return handle(within, server);
    };
  // `/graphql` inside the pipeline: the body limit, CSRF, then Yoga's own handling (`handle`).
  const graphqlRoute = (handle: Handler): Handler =>
    bodyLimited(graphqlError, async (request, server) => {
      // CSRF: a POST must be JSON, which no cross-site form can send without a
      // preflight. (Yoga's CSRF-prevention plugin would also refuse the GET an
      // EventSource makes for a subscription, which cannot add headers.)
      if (request.method === 'POST' && !isJsonContentType(request)) return graphqlError(unsupportedMediaType());
      return handle(request, server);
    });
  const yoga = createGraphQL(services, useDirectRequests((handle) => pipeline.wrap(graphqlRoute(handle))));
  // Only what the context reads (src/http/handler.ts): Yoga copies every
  // property of the server context it is given, accessors and all, per request.
  const graphql = graphqlRoute(async (request, server) => yoga.fetch(request, { req: server.req }));
  // graphql-sse's single connection mode (and its distinct connections) on `/graphql/stream`.
  const graphqlStream = graphqlRoute(
    createStreamRoute({
      services,
      connections: new StreamConnections(services),
      execute: async (request, server) => yoga.fetch(request, { req: server.req, ...(server.operation ? { operation: server.operation } : {}) }),
      refuse: graphqlError,
      Response: yoga.fetchAPI.Response,
      Request: yoga.fetchAPI.Request,
    }),
  );
  const rest = bodyLimited((error) => errorResponse(error, log), createRestHandler(services));
  const admin = bodyLimited((error) => errorResponse(error, log), createAdminHandler(services));
  const devicesPage = createDevicesPage();
  const jwks = jwksReply(services.tokenKeys);

  const route: Handler = async (request, server) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/health') {
      const report = await checkHealth(services);
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    // Kubernetes' probes (src/http/health.ts): the process answers; this instance should get traffic.
    if (pathname === '/livez') return json(200, { status: 'live' });
    if (pathname === '/readyz') {
      const { status, body } = await checkReadiness(services);
      return json(status, body);
    }
    if (pathname === '/.well-known/jwks.json' && (request.method === 'GET' || request.method === 'HEAD')) return toResponse(jwks);
    const page = request.method === 'GET' || request.method === 'HEAD' ? devicesPage(pathname) : null;
    if (page) return page;
    if (pathname === '/graphql') return graphql(request, server);
    if (pathname === '/graphql/stream') return graphqlStream(request, server);
    if (isAdminPath(pathname)) return admin(request, server);
    if (pathname.startsWith('/api/')) return rest(request, server);
    return errorResponse(notFound(`No route for ${request.method} ${pathname}`), log);
  };

  const adapter = createServerAdapter<ServerContext>(pipeline.wrap(route));
  const reads = createNodeReads({ find: createRestReads(services), pipeline, log });
  const viaAdapter = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The body read ahead, so the adapter does not keep listening on the request for it (src/http/body-limit.ts).
    const body = await readDeclaredBody(req);
    if (body !== null) Object.assign(req, { body });
    const response = await adapter.handleNodeRequestAndResponse(req, res, { req });
    if (response instanceof StreamResponse) writeStreamResponse(response, res);
    else await sendNodeResponse(response, res, req, true);
  };
  return (req, res) => {
    // A body that may be refused is drained after its 413, so that the client reads the answer.
    if (mayBeRefusedBody(req)) lingerAfterRefusal(req, res);
    if (reads(req, res)) return;
    if (req.method === 'POST' && req.url === '/graphql' && !wantsEventStream(req.headers.accept)) {
      void yoga(req, res, { direct: true });
      return;
    }
    viaAdapter(req, res).catch((error: unknown) => {
      // A client that left mid-body is no failure of the server's.
      if (!req.destroyed) log.error({ err: (error as Error).message }, 'request failed');
      res.destroy();
    });
  };
}

/**
 * For a request the Node listener handed to Yoga itself (`direct` in its
 * server context): wraps Yoga's request handler in the app's pipeline
 * (`wrap`), so that it is answered exactly as through the app's adapter.
 * Yoga's hooks that may answer before this one (its health check, GraphiQL)
 * answer only GETs or other paths, never these.
 */
function useDirectRequests(wrap: (handle: Handler) => Handler): Plugin {
  return {
    onRequest({ serverContext, requestHandler, setRequestHandler }) {
      const context = serverContext as ServerContext | undefined;
      if (!context?.direct) return;
      const wrapped = wrap(async (request) => requestHandler(request, serverContext));
      setRequestHandler((request) => wrapped(request, { req: context.req }));
    },
  };
}

/** A request-level failure in GraphQL's shape (`errors` with the contract's code). */
function graphqlError(error: unknown): Response {
  const { status, code, message, headers } = httpErrorOf(error);
  return json(status, { errors: [{ message, extensions: { code } }] }, headers);
}
