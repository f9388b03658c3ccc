import { createServerAdapter, type ServerAdapter } from '@whatwg-node/server';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { createRestHandler } from '../rest-compat/index.js';
import { withBodyLimit } from './http/body-limit.js';
import { withCors } from './http/cors.js';
import { httpErrorOf, notFound } from './errors.js';
import { maskUnexpectedError } from './graphql/error-codes.js';
import { graphqlPlugins } from './graphql/limits.js';
import { checkHealth } from './http/health.js';
import type { Handler, ServerContext } from './http/handler.js';
import { readBearerToken, readRequestInfo, wantsEventStream } from './http/request-info.js';
import { withRequestLog } from './http/request-log.js';
import { errorResponse, json } from './http/responses.js';
import { withSecurityHeaders } from './http/security-headers.js';
import { authenticate } from './auth/authenticate.js';
import { schema, type Context } from './schema/index.js';
import type { Services } from './services.js';

export type App = ServerAdapter<ServerContext, { handle: Handler }>;

function createGraphQL(services: Services): YogaServerInstance<ServerContext, Context> {
  const { config, log } = services;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Document limits and the contract's error codes (src/graphql/limits.ts).
    plugins: graphqlPlugins(config),
    graphiql: { title: 'logout-all', subscriptionsProtocol: 'SSE' },
    maskedErrors: {
      // Never attach stacks or original messages, whatever NODE_ENV says.
      isDev: false,
      maskError: maskUnexpectedError,
    },
    // CORS is answered for every path at once (src/http/cors.ts).
    cors: false,
    logging: {
      debug: (...args: unknown[]) => log.debug({ args: args.map(String) }, 'yoga'),
      info: (...args: unknown[]) => log.info({ args: args.map(String) }, 'yoga'),
      warn: (...args: unknown[]) => log.warn({ args: args.map(String) }, 'yoga'),
      error: (...args: unknown[]) => log.error({ args: args.map((a) => (a instanceof Error ? a.stack : String(a))) }, 'yoga'),
    },
    context: async ({ request, req }): Promise<Context> => {
      // Taken before the session check: the subscription replays revocations from this instant.
      const authenticatedAt = new Date();
      const token = readBearerToken(request, { allowQueryToken: wantsEventStream(request) });
      return {
        services,
        auth: await authenticate(services, token),
        client: readRequestInfo(request, { req }, config.trustProxy),
        signal: request.signal,
        authenticatedAt,
      };
    },
  });
}

/**
 * The whole HTTP surface as one fetch handler (`/graphql`, `/api/*`,
 * `/health`). It never listens: src/main.ts does, and tests start it on port 0.
 */
export function createApp(services: Services): App {
  const { config, log } = services;
  const yoga = createGraphQL(services);
  const rest = createRestHandler(services);

  const route: Handler = async (request, serverContext) => {
    const { pathname } = new URL(request.url);
    if (pathname === '/health') {
      const report = await checkHealth(services);
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    const graphql = pathname === '/graphql';
    if (!graphql && !pathname.startsWith('/api/')) {
      return errorResponse(notFound(`No route for ${request.method} ${pathname}`), log);
    }
    let limited: Request;
    try {
      limited = await withBodyLimit(request, yoga.fetchAPI.Request);
    } catch (error) {
      const response = graphql ? graphqlError(error) : errorResponse(error, log);
      // The rest of an oversized body is never read, so the connection cannot carry another request.
      response.headers.set('connection', 'close');
      return response;
    }
    return graphql ? yoga.fetch(limited, serverContext) : rest(limited, serverContext);
  };

  const handler = withRequestLog(withSecurityHeaders(withCors(route, config.corsOrigins), config), log);
  return createServerAdapter<ServerContext>(handler) as unknown as App;
}

/** A request-level failure in GraphQL's shape (`errors` with the contract's code). */
function graphqlError(error: unknown): Response {
  const { status, code, message, headers } = httpErrorOf(error);
  return json(status, { errors: [{ message, extensions: { code } }] }, headers);
}
