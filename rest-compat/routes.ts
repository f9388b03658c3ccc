import { login, register } from '../src/resolvers/auth.js';
import { authenticateRequest, requireViewer, type Transport } from '../src/credentials.js';
import { me } from '../src/resolvers/me.js';
import { listSessions, logout, logoutAll, revokeSession } from '../src/resolvers/sessions.js';
import type { Viewer } from '../src/resolvers/views.js';
import { readRequestInfo, type ServerContext } from '../src/request-info.js';
import type { Services } from '../src/services.js';
import { streamSessionEvents } from './events.js';
import { json, readJsonObject } from './http.js';
import { openApiDocument } from './openapi.js';
import { toJson } from './shapes.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface RouteContext {
  request: Request;
  /** Path parameters by name (`:id`), already percent-decoded. */
  params: Record<string, string>;
  services: Services;
  server: ServerContext;
}

export interface Route {
  method: Method;
  /** `/api/auth/sessions/:id`: literal segments and `:name` parameters. */
  path: string;
  handle: (c: RouteContext) => Promise<Response> | Response;
}

/** Where the request came from, recorded on the session it opens (socket address; X-Forwarded-For only with TRUST_PROXY). */
const requestInfo = (c: RouteContext) => readRequestInfo(c.request, c.server, c.services.config.trustProxy);

/**
 * "Needs a viewer", stated once for REST: the handler runs only for an
 * authenticated caller (else UNAUTHENTICATED / SERVICE_UNAVAILABLE), before any
 * body is read, so an anonymous caller learns nothing about input rules.
 * `request` routes take the Bearer header only (tokens in URLs end up in logs);
 * the `stream` route also takes `?token=`, since EventSource cannot set headers.
 */
function authenticated(
  transport: Transport,
  handle: (c: RouteContext, viewer: Viewer, authenticatedAt: Date) => Promise<Response>,
): Route['handle'] {
  return async (c) => {
    const auth = await authenticateRequest(c.services, c.request);
    return handle(c, requireViewer(auth, transport), auth.authenticatedAt);
  };
}

/**
 * API.md's REST table. Each handler parses, calls the resolver function
 * GraphQL calls, and shapes the answer; every rule lives in the resolvers.
 */
export const routes: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/auth/register',
    handle: async (c) =>
      json(201, toJson('AuthPayload', await register(c.services, await readJsonObject(c.request), requestInfo(c)))),
  },
  {
    method: 'POST',
    path: '/api/auth/login',
    handle: async (c) =>
      json(200, toJson('AuthPayload', await login(c.services, await readJsonObject(c.request), requestInfo(c)))),
  },
  {
    method: 'POST',
    path: '/api/auth/logout',
    handle: authenticated('request', async (c, viewer) => {
      await logout(c.services, viewer);
      return json(200, { success: true });
    }),
  },
  {
    method: 'POST',
    path: '/api/auth/logout-all',
    handle: authenticated('request', async (c, viewer) => {
      const body = await readJsonObject(c.request);
      const result = await logoutAll(c.services, viewer, { exceptCurrent: body.exceptCurrent });
      return json(200, { success: true, ...toJson('LogoutAllPayload', result) });
    }),
  },
  {
    method: 'GET',
    path: '/api/auth/sessions',
    handle: authenticated('request', async (c, viewer) => {
      const sessions = await listSessions(c.services, viewer);
      return json(200, { sessions: sessions.map((s) => toJson('Session', s)) });
    }),
  },
  {
    method: 'DELETE',
    path: '/api/auth/sessions/:id',
    handle: authenticated('request', async (c, viewer) => {
      await revokeSession(c.services, viewer, c.params.id);
      return json(200, { success: true });
    }),
  },
  {
    method: 'GET',
    path: '/api/auth/me',
    handle: authenticated('request', async (c, viewer) => json(200, { user: toJson('User', await me(c.services, viewer)) })),
  },
  {
    method: 'GET',
    path: '/api/auth/events',
    handle: authenticated('stream', (c, viewer, authenticatedAt) => streamSessionEvents(c.services, c.request, viewer, authenticatedAt)),
  },
  {
    method: 'GET',
    path: '/api/openapi.json',
    handle: () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }),
  },
];
