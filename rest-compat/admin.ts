import { notFound } from '../src/errors.js';
import {
  blockUser,
  findUserByEmail,
  findUserById,
  listUserSessions,
  revokeUserSession,
  revokeUserSessions,
  unblockUser,
  type AdminRequest,
  type AdminUserView,
} from '../src/admin/users.js';
import type { ServerContext } from '../src/http/handler.js';
import { readRequestInfo } from '../src/http/request-info.js';
import { errorResponse, json } from '../src/http/responses.js';
import type { Services } from '../src/services.js';
import { toJson } from './shapes.js';

/**
 * The admin API, `/api/admin/*` (docs/rest.md, "Admin API"): off (every path
 * 404) unless ADMIN_API_KEYS is set; every call authenticated by
 * `Authorization: Bearer <admin key>` (src/admin/keys.ts) before anything else,
 * and logged with the key's id. Thin: the work is in src/admin/users.ts.
 */

interface AdminCall {
  params: Record<string, string>;
  query: URLSearchParams;
  services: Services;
  request: AdminRequest;
}

interface AdminRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  handle: (c: AdminCall) => Promise<unknown>;
}

const userBody = (user: AdminUserView): { user: AdminUserView } => ({ user });

export const adminRoutes: readonly AdminRoute[] = [
  { method: 'GET', path: '/api/admin/users', handle: async (c) => userBody(await findUserByEmail(c.services, c.query.get('email') ?? undefined)) },
  { method: 'GET', path: '/api/admin/users/:id', handle: async (c) => userBody(await findUserById(c.services, c.params.id)) },
  {
    method: 'GET',
    path: '/api/admin/users/:id/sessions',
    handle: async (c) => ({ sessions: (await listUserSessions(c.services, c.params.id)).map((s) => toJson('Session', s)) }),
  },
  { method: 'DELETE', path: '/api/admin/users/:id/sessions', handle: async (c) => revokeUserSessions(c.services, c.params.id, c.request) },
  {
    method: 'DELETE',
    path: '/api/admin/users/:id/sessions/:sessionId',
    handle: async (c) => ({ success: await revokeUserSession(c.services, c.params.id, c.params.sessionId, c.request) }),
  },
  { method: 'POST', path: '/api/admin/users/:id/block', handle: async (c) => userBody(await blockUser(c.services, c.params.id, c.request)) },
  { method: 'POST', path: '/api/admin/users/:id/unblock', handle: async (c) => userBody(await unblockUser(c.services, c.params.id, c.request)) },
];

const segments = (path: string): string[] => path.split('/').filter(Boolean);

function match(route: AdminRoute, method: string, actual: readonly string[]): Record<string, string> | null {
  const pattern = segments(route.path);
  if (route.method !== method || pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const value = actual[i] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = value;
    else if (part !== value) return null;
  }
  return params;
}

/** Is this path the admin API's? (src/server.ts routes it here, before the user-facing REST routes.) */
export const isAdminPath = (pathname: string): boolean => pathname === '/api/admin' || pathname.startsWith('/api/admin/');

export function createAdminHandler(services: Services): (request: Request, server: ServerContext) => Promise<Response> {
  const { config, log } = services;
  return async (request, server) => {
    const url = new URL(request.url);
    if (!services.adminKeys.enabled) return errorResponse(notFound(`No route for ${request.method} ${url.pathname}`), log);
    let keyId: string | null = null;
    const action = `${request.method} ${url.pathname}`;
    try {
      const info = readRequestInfo(request, server, config.trustProxy);
      keyId = await services.adminKeys.authenticate(request.headers.get('authorization'), info.ipAddress);
      const actual = segments(url.pathname);
      const found = adminRoutes.map((route) => ({ route, params: match(route, request.method, actual) })).find((m) => m.params !== null);
      if (!found?.params) throw notFound(`No route for ${action}`);
      const body = await found.route.handle({ params: found.params, query: url.searchParams, services, request: info });
      log.info({ adminKey: keyId, route: `${found.route.method} ${found.route.path}`, userId: found.params.id, sessionId: found.params.sessionId, status: 200 }, 'admin call');
      return json(200, body);
    } catch (error) {
      const response = errorResponse(error, log);
      // Refused callers too: the key's id when one was given, never the header itself.
      log.warn({ adminKey: keyId, method: request.method, status: response.status }, 'admin call refused');
      return response;
    }
  };
}
