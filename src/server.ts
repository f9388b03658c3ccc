import { createServerAdapter, type ServerAdapter } from '@whatwg-node/server';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { createRestHandler } from '../rest-compat/index.js';
import { checkHealth } from './health.js';
import { redactUrl } from './logger.js';
import { authenticate } from './resolvers/authenticate.js';
import { readBearerToken, readRequestInfo, wantsEventStream, type ServerContext } from './request-info.js';
import { schema, type Context } from './schema/index.js';
import type { Services } from './services.js';

export type App = ServerAdapter<ServerContext, { handle: (request: Request, ctx: ServerContext) => Promise<Response> }>;

function createGraphQL(services: Services): YogaServerInstance<ServerContext, Context> {
  const { config, log } = services;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'logout-all', subscriptionsProtocol: 'SSE' },
    // Never attach stacks or original messages to errors, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    cors: {
      origin: config.corsOrigins.length === 0 ? [] : config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'accept'],
    },
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
      return {
        services,
        auth: await authenticate(services, token),
        request: readRequestInfo(request, { req, clientIp }, config.trustProxy),
        authenticatedAt,
      };
    },
  });
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

/**
 * The whole HTTP surface as one fetch handler (`/graphql`, `/api/auth/*`,
 * `/health`). It never listens: src/main.ts does, and tests start it on port 0.
 */
export function createApp(services: Services): App {
  const yoga = createGraphQL(services);
  const rest = createRestHandler(services);
  return createServerAdapter<ServerContext>(async (request, serverContext) => {
    const url = new URL(request.url);
    if (url.pathname === '/health') {
      const report = await checkHealth(services);
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    if (url.pathname === '/graphql') return yoga.fetch(request, serverContext);
    if (url.pathname.startsWith('/api/')) return rest(request, serverContext);
    services.log.debug({ url: redactUrl(request.url) }, 'no route');
    return json(404, { error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${url.pathname}` } });
  }) as unknown as App;
}
