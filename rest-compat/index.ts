import type { ServerContext } from '../src/request-info.js';
import type { Services } from '../src/services.js';

/** The REST compatibility routes under /api (to be filled in: see issue "REST compatibility routes"). */
export function createRestHandler(services: Services): (request: Request, server: ServerContext) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    services.log.debug({ path: url.pathname }, 'rest route not implemented');
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${url.pathname}` } }), {
      status: 404,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
  };
}
