import { notFound } from '../src/errors.js';
import type { RequestHead, ServerContext } from '../src/http/handler.js';
import type { Services } from '../src/services.js';
import type { StreamReply } from '../src/streams/sse.js';
import { errorResponse, type JsonReply } from '../src/http/responses.js';
import { routes, type Route } from './routes.js';

export { routes } from './routes.js';

const segments = (path: string): string[] => path.split('/').filter(Boolean);

/** Path parameters if the path's segments fit the route's pattern, else null. */
function matchPath(pattern: readonly string[], actual: readonly string[]): Record<string, string> | null {
  if (pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const value = actual[i] ?? '';
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        // Malformed percent-encoding: pass it through for the validator to refuse.
        params[part.slice(1)] = value;
      }
    } else if (part !== value) {
      return null;
    }
  }
  return params;
}

// Each pattern split once, not on every request.
const table: ReadonlyArray<{ route: Route; pattern: string[] }> = routes.map((route) => ({ route, pattern: segments(route.path) }));

/** The routes whose pattern fits the path, in table order, with their parameters. */
function routesFor(pathname: string): Array<{ route: Route; params: Record<string, string> }> {
  const actual = segments(pathname);
  return table.flatMap(({ route, pattern }) => {
    const params = matchPath(pattern, actual);
    return params ? [{ route, params }] : [];
  });
}

/**
 * The REST compatibility routes under /api as one fetch handler. Unknown paths
 * are 404 `NOT_FOUND`, and so is a known path with another method (with an
 * `Allow` header): the original Express server answered 404 there too, and
 * docs/contract.md's closed set of codes has none for 405.
 * Every failure becomes `{"error": {"code", "message"}}` in errorResponse.
 */
export function createRestHandler(services: Services): (request: Request, server: ServerContext) => Promise<Response> {
  return async (request, server) => {
    const { pathname } = new URL(request.url);
    const candidates = routesFor(pathname);
    const match = candidates.find((c) => c.route.method === request.method);
    try {
      if (!match) {
        if (candidates.length === 0) throw notFound(`No route for ${request.method} ${pathname}`);
        const allow = candidates.map((c) => c.route.method).join(', ');
        const response = errorResponse(notFound(`No route for ${request.method} ${pathname} (use ${allow})`), services.log);
        response.headers.set('allow', allow);
        return response;
      }
      return await match.route.handle({ request, params: match.params, services, server });
    } catch (error) {
      return errorResponse(error, services.log);
    }
  };
}

/**
 * The plain read (JSON or an event stream) a GET of this path is routed to, as the node fast path
 * calls it (src/http/node-reads.ts), or null when createRestHandler must answer
 * (no such route, or one that is not a plain read). The same route the handler
 * would pick, and the same answer, errors included.
 */
export function createRestReads(
  services: Services,
): (pathname: string) => ((request: RequestHead, server: ServerContext) => Promise<JsonReply | StreamReply>) | null {
  const readFor = (pathname: string): { read: NonNullable<Route['read']>; params: Record<string, string> } | null => {
    const match = routesFor(pathname).find((c) => c.route.method === 'GET');
    return match?.route.read ? { read: match.route.read, params: match.params } : null;
  };
  // The routes' own paths (those without parameters), looked up once: the hot reads are among them.
  const exact = new Map(routes.filter((r) => !r.path.includes(':')).map((r) => [r.path, readFor(r.path)]));
  return (pathname) => {
    const found = exact.has(pathname) ? exact.get(pathname)! : readFor(pathname);
    if (!found) return null;
    const { read, params } = found;
    return (request, server) => read({ request, params, services, server });
  };
}
