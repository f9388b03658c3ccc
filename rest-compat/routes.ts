import { changePassword, deleteAccount } from '../src/resolvers/account.js';
import { login, register } from '../src/resolvers/auth.js';
import { refreshSession } from '../src/sessions/refresh.js';
import { MAX_LENGTH, MIN_LENGTH, TIMELINE_PAGE } from '../src/auth/validation.js';
import { me } from '../src/resolvers/me.js';
import { listSecurityEvents } from '../src/resolvers/security-events.js';
import { listSessions } from '../src/resolvers/sessions.js';
import { logout, logoutAll, revokeSession } from '../src/revocation/sign-out.js';
import { json, jsonReply } from '../src/http/responses.js';
import { streamSessionEvents } from './events.js';
import { readJsonObject } from './http.js';
import {
  AUTH_ERRORS,
  bearer,
  body,
  BODY_ERRORS,
  COMMON_ERRORS,
  CURRENT_PASSWORD,
  errorDoc,
  EVENTS_DESCRIPTION,
  INPUT_RULES,
  ok,
  openApiDocument,
  propertiesOf,
  REAUTHENTICATION,
  REFRESH_DOC,
  STEP_UP,
  SUCCESS,
} from './openapi.js';
// Deliberate: REST bodies are shaped from the GraphQL types (one field list for both APIs, docs/contract.md).
import { jsonSchemaOf, ref, toJson } from './shapes.js';
import { authenticated, authenticatedRead, authenticatedStream, requestInfo, type Route } from './route-kit.js';
import { sessionRoutes } from './session-routes.js';

export type { Method, ReadContext, Route, RouteContext } from './route-kit.js';

/**
 * docs/contract.md's REST table. Each handler parses, calls the resolver function
 * GraphQL calls, and shapes the answer; every rule lives in the resolvers.
 */
export const routes: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/auth/register',
    doc: {
    operationId: 'register',
    summary: 'Create an account and its first session',
    description: INPUT_RULES,
    security: [],
    requestBody: body(ref('RegisterInput'), true),
    responses: {
      '201': ok('The new account, its first session and that session\'s token.', ref('AuthPayload')),
      ...BODY_ERRORS,
      '409': errorDoc(409, 'The email is already in use (`EMAIL_TAKEN`).'),
      '429': errorDoc(429, 'Too many attempts (`RATE_LIMITED`).'),
      ...COMMON_ERRORS,
    },
  },
    handle: async (c) =>
      json(201, toJson('AuthPayload', await register(c.services, await readJsonObject(c.request), requestInfo(c)))),
  },
  {
    method: 'POST',
    path: '/api/auth/login',
    doc: {
    operationId: 'login',
    summary: 'Open a new session',
    description: 'Wrong email and wrong password get the same answer. ' + INPUT_RULES,
    security: [],
    requestBody: body(ref('LoginInput'), true),
    responses: {
      '200': ok('The new session and its token.', ref('AuthPayload')),
      ...BODY_ERRORS,
      '401': errorDoc(401, 'Wrong email or password (`INVALID_CREDENTIALS`).'),
      '403': errorDoc(403, 'The right password, for an account an administrator blocked (`ACCOUNT_BLOCKED`).'),
      '429': errorDoc(429, 'Too many attempts (`RATE_LIMITED`).'),
      ...COMMON_ERRORS,
    },
  },
    handle: async (c) =>
      json(200, toJson('AuthPayload', await login(c.services, await readJsonObject(c.request), requestInfo(c)))),
  },
  {
    method: 'POST',
    path: '/api/auth/refresh',
    doc: REFRESH_DOC,
    handle: async (c) =>
      json(200, toJson('AuthPayload', await refreshSession(c.services, (await readJsonObject(c.request)).refreshToken, requestInfo(c)))),
  },
  {
    method: 'POST',
    path: '/api/auth/logout',
    doc: {
    operationId: 'logout',
    summary: 'Revoke the caller\'s session',
    description: 'The user\'s other event listeners get `session-revoked` with reason `LOGOUT`.',
    security: bearer,
    responses: { '200': ok('Signed out.', SUCCESS), ...AUTH_ERRORS },
  },
    handle: authenticated('request', async (c, viewer) => {
      await logout(c.services, viewer, requestInfo(c));
      return json(200, { success: true });
    }),
  },
  {
    method: 'POST',
    path: '/api/auth/logout-all',
    doc: {
    operationId: 'logoutAll',
    summary: 'Revoke every session of the user',
    description: 'Each listener gets `session-revoked` with reason `LOGOUT_ALL`; `exceptCurrent: true` keeps the caller signed in. ' + STEP_UP,
    security: bearer,
    requestBody: body(
      { type: 'object', properties: { exceptCurrent: { type: 'boolean', default: false }, currentPassword: CURRENT_PASSWORD } },
      false,
    ),
    responses: {
      '200': ok('What was revoked.', {
        type: 'object',
        required: ['success', 'revokedCount', 'revokedSessionIds'],
        additionalProperties: false,
        properties: { success: { const: true }, ...propertiesOf(jsonSchemaOf('LogoutAllPayload')) },
      }),
      ...BODY_ERRORS,
      '403': REAUTHENTICATION,
      ...AUTH_ERRORS,
    },
  },
    handle: authenticated('request', async (c, viewer) => {
      const body = await readJsonObject(c.request);
      const result = await logoutAll(c.services, viewer, { exceptCurrent: body.exceptCurrent, currentPassword: body.currentPassword }, requestInfo(c));
      return json(200, { success: true, ...toJson('LogoutAllPayload', result) });
    }),
  },
  {
    method: 'GET',
    path: '/api/auth/sessions',
    doc: {
    operationId: 'listSessions',
    summary: 'The caller\'s active sessions, newest first',
    security: bearer,
    responses: {
      '200': ok('Active sessions; `current` marks the caller\'s.', {
        type: 'object',
        required: ['sessions'],
        additionalProperties: false,
        properties: { sessions: { type: 'array', items: ref('Session') } },
      }),
      ...AUTH_ERRORS,
    },
  },
    ...authenticatedRead(async (c, viewer) => {
      const sessions = await listSessions(c.services, viewer);
      return jsonReply(200, { sessions: sessions.map((s) => toJson('Session', s)) });
    }),
  },
  {
    method: 'DELETE',
    path: '/api/auth/sessions/:id',
    doc: {
    operationId: 'revokeSession',
    summary: 'Revoke one of the caller\'s own sessions',
    description: 'Listeners get `session-revoked` with reason `REVOKED`. ' + STEP_UP,
    security: bearer,
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    requestBody: body({ type: 'object', properties: { currentPassword: CURRENT_PASSWORD } }, false),
    responses: {
      '200': ok('Revoked.', SUCCESS),
      '400': errorDoc(400, 'Not a session id, or a bad body (`BAD_USER_INPUT`).'),
      '403': REAUTHENTICATION,
      '404': errorDoc(404, 'Not an active session of the caller, whoever owns it (`NOT_FOUND`).'),
      ...AUTH_ERRORS,
    },
  },
    handle: authenticated('request', async (c, viewer) => {
      const body = await readJsonObject(c.request);
      await revokeSession(c.services, viewer, c.params.id, requestInfo(c), { currentPassword: body.currentPassword });
      return json(200, { success: true });
    }),
  },
  ...sessionRoutes,
  {
    method: 'GET',
    path: '/api/auth/me',
    doc: {
    operationId: 'me',
    summary: 'The signed-in user',
    security: bearer,
    responses: {
      '200': ok('The user.', {
        type: 'object',
        required: ['user'],
        additionalProperties: false,
        properties: { user: ref('User') },
      }),
      ...AUTH_ERRORS,
    },
  },
    ...authenticatedRead(async (c, viewer) => jsonReply(200, { user: toJson('User', await me(c.services, viewer)) })),
  },
  {
    method: 'GET',
    path: '/api/auth/events',
    doc: {
    operationId: 'events',
    summary: 'Revocations and new sign-ins of the user\'s sessions, as Server-Sent Events',
    description: EVENTS_DESCRIPTION,
    security: [{ bearer: [] }, { queryToken: [] }],
    responses: {
      '200': {
        description: 'An event stream.',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
        'x-sse-events': {
          connected: ref('ConnectedEvent'),
          'session-revoked': ref('SessionRevokedEvent'),
          'session-created': ref('Session'),
        },
      },
      ...AUTH_ERRORS,
    },
  },
    ...authenticatedStream((c, viewer, authenticatedAt) => streamSessionEvents(c.services, viewer, authenticatedAt)),
  },
  {
    method: 'POST',
    path: '/api/auth/password',
    doc: {
      operationId: 'changePassword',
      summary: 'Set a new password and sign every other device out',
      description:
        'The current password is checked as a sign-in is (a wrong one is `INVALID_CREDENTIALS` and counts toward the limits); ' +
        'the new one follows the register rules and must differ. Every other session is revoked (reason `PASSWORD_CHANGED`) ' +
        'before the answer; the caller stays signed in.',
      security: bearer,
      requestBody: body(
        {
          type: 'object',
          required: ['currentPassword', 'newPassword'],
          properties: { currentPassword: { type: 'string' }, newPassword: { type: 'string', minLength: MIN_LENGTH.password, maxLength: MAX_LENGTH.password } },
        },
        true,
      ),
      responses: {
        '200': ok('The other sessions were revoked.', ref('ChangePasswordPayload')),
        ...BODY_ERRORS,
        '401': errorDoc(401, 'No valid token (`UNAUTHENTICATED`), or a wrong current password (`INVALID_CREDENTIALS`).'),
        '429': errorDoc(429, 'Too many attempts (`RATE_LIMITED`).'),
        ...COMMON_ERRORS,
      },
    },
    handle: authenticated('request', async (c, viewer) => {
      const body = await readJsonObject(c.request);
      const result = await changePassword(c.services, viewer, body, requestInfo(c));
      return json(200, toJson('ChangePasswordPayload', result));
    }),
  },
  {
    method: 'DELETE',
    path: '/api/auth/account',
    doc: {
      operationId: 'deleteAccount',
      summary: 'Delete the account',
      description:
        'Checks the password, revokes every session (listeners get `session-revoked` with reason `ACCOUNT_DELETED`), then deletes ' +
        'the user, its sessions and its security events. The email can register again.',
      security: bearer,
      requestBody: body(
        { type: 'object', properties: { password: { type: 'string' }, currentPassword: { ...CURRENT_PASSWORD, description: 'The same as `password`: one of the two is required.' } } },
        true,
      ),
      responses: {
        '204': { description: 'Deleted.' },
        ...BODY_ERRORS,
        '401': errorDoc(401, 'No valid token (`UNAUTHENTICATED`), or a wrong password (`INVALID_CREDENTIALS`).'),
        '429': errorDoc(429, 'Too many attempts (`RATE_LIMITED`).'),
        ...COMMON_ERRORS,
      },
    },
    handle: authenticated('request', async (c, viewer) => {
      await deleteAccount(c.services, viewer, await readJsonObject(c.request), requestInfo(c));
      return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
    }),
  },
  {
    method: 'GET',
    path: '/api/auth/security-events',
    doc: {
      operationId: 'securityEvents',
      summary: 'The caller\'s security timeline, newest first',
      description:
        'Sign-ins, sign-outs, revocations, password changes, failed and throttled sign-ins of the caller\'s own account, ' +
        'kept for `SECURITY_EVENTS_RETENTION`. Failed and throttled sign-ins are recorded at most once per account per 15 minutes.',
      security: bearer,
      parameters: [
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: TIMELINE_PAGE.max, default: TIMELINE_PAGE.default } },
        { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: '`nextCursor` of the previous page.' },
      ],
      responses: {
        '200': ok('One page.', ref('SecurityEventConnection')),
        '400': errorDoc(400, '`limit` outside 1..100, or a cursor this list did not give (`BAD_USER_INPUT`).'),
        '429': errorDoc(429, 'More than `SECURITY_EVENTS_READS_PER_MINUTE` reads by this user in the minute (`RATE_LIMITED`).'),
        ...AUTH_ERRORS,
      },
    },
    ...authenticatedRead(async (c, viewer) => {
      const query = new URL(c.request.url).searchParams;
      const limit = query.get('limit') ?? undefined;
      const page = {
        // Digits become a number for the resolver's range check; anything else it refuses as it is.
        first: limit !== undefined && /^\d{1,4}$/.test(limit) ? Number(limit) : limit,
        after: query.get('cursor') ?? undefined,
      };
      const result = await listSecurityEvents(c.services, viewer, page, { first: 'limit', after: 'cursor' });
      return jsonReply(200, toJson('SecurityEventConnection', result));
    }),
  },
  {
    method: 'GET',
    path: '/api/openapi.json',
    doc: {
    operationId: 'openApi',
    summary: 'This document',
    security: [],
    responses: { '200': ok('OpenAPI 3.1.', { type: 'object', required: ['openapi', 'paths'] }) },
  },
    handle: () => json(200, openApiDocument(routes), { 'cache-control': 'public, max-age=300' }),
  },
];
