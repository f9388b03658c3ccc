import { changePassword, deleteAccount } from '../src/resolvers/account.js';
import { login, register } from '../src/resolvers/auth.js';
import { authenticate, requireViewer } from '../src/resolvers/authenticate.js';
import { me } from '../src/resolvers/me.js';
import { listSecurityEvents } from '../src/resolvers/security-events.js';
import { listSessions, logout, logoutAll, revokeSession } from '../src/resolvers/sessions.js';
import type { Viewer } from '../src/resolvers/views.js';
import { readBearerToken, readRequestInfo, type ServerContext } from '../src/request-info.js';
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

/** The caller, or UNAUTHENTICATED / SERVICE_UNAVAILABLE. Only `Authorization: Bearer`: tokens in URLs end up in logs. */
async function viewerOf(c: RouteContext): Promise<Viewer> {
  return requireViewer(await authenticate(c.services, readBearerToken(c.request, { allowQueryToken: false })));
}

/**
 * API.md's REST table. Each handler parses, calls the resolver function
 * GraphQL calls, and shapes the answer; every rule lives in the resolvers.
 * Authentication comes before reading a body, so an anonymous caller learns
 * nothing about input rules.
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
    handle: async (c) => {
      await logout(c.services, await viewerOf(c), requestInfo(c));
      return json(200, { success: true });
    },
  },
  {
    method: 'POST',
    path: '/api/auth/logout-all',
    handle: async (c) => {
      const viewer = await viewerOf(c);
      const body = await readJsonObject(c.request);
      const result = await logoutAll(c.services, viewer, { exceptCurrent: body.exceptCurrent }, requestInfo(c));
      return json(200, { success: true, ...toJson('LogoutAllPayload', result) });
    },
  },
  {
    method: 'GET',
    path: '/api/auth/sessions',
    handle: async (c) => {
      const sessions = await listSessions(c.services, await viewerOf(c));
      return json(200, { sessions: sessions.map((s) => toJson('Session', s)) });
    },
  },
  {
    method: 'DELETE',
    path: '/api/auth/sessions/:id',
    handle: async (c) => {
      await revokeSession(c.services, await viewerOf(c), c.params.id, requestInfo(c));
      return json(200, { success: true });
    },
  },
  {
    method: 'GET',
    path: '/api/auth/me',
    handle: async (c) => json(200, { user: toJson('User', await me(c.services, await viewerOf(c))) }),
  },
  {
    method: 'GET',
    path: '/api/auth/events',
    handle: (c) => streamSessionEvents(c.services, c.request),
  },
  {
    method: 'POST',
    path: '/api/auth/password',
    handle: async (c) => {
      const viewer = await viewerOf(c);
      const body = await readJsonObject(c.request);
      const result = await changePassword(c.services, viewer, body, requestInfo(c));
      return json(200, toJson('ChangePasswordPayload', result));
    },
  },
  {
    method: 'DELETE',
    path: '/api/auth/account',
    handle: async (c) => {
      const viewer = await viewerOf(c);
      await deleteAccount(c.services, viewer, await readJsonObject(c.request), requestInfo(c));
      return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
    },
  },
  {
    method: 'GET',
    path: '/api/auth/security-events',
    handle: async (c) => {
      const viewer = await viewerOf(c);
      const query = new URL(c.request.url).searchParams;
      const limit = query.get('limit') ?? undefined;
      const page = {
        // Digits become a number for the resolver's range check; anything else it refuses as it is.
        first: limit !== undefined && /^\d{1,4}$/.test(limit) ? Number(limit) : limit,
        after: query.get('cursor') ?? undefined,
      };
      const result = await listSecurityEvents(c.services, viewer, page, { first: 'limit', after: 'cursor' });
      return json(200, toJson('SecurityEventConnection', result));
    },
  },
  {
    method: 'GET',
    path: '/api/openapi.json',
    handle: () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }),
  },
];
