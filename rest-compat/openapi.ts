import { ERROR_STATUS, type ErrorCode } from '../src/errors.js';
import { jsonSchemaOf, type Json, type JsonSchema } from './shapes.js';

/**
 * `GET /api/openapi.json`: the REST routes in OpenAPI 3.1. Object shapes come
 * from the GraphQL types (shapes.ts) and error codes from ERROR_STATUS, so only
 * the route list and prose are written here; test/rest-openapi.test.ts checks
 * the paths against the router table and real responses against the schemas.
 */

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: JsonSchema): Json => ({ 'application/json': { schema } });

/** The error body for one status: the codes ERROR_STATUS maps to it, unless the status is more precise than the code's. */
function errorResponse(status: number, description: string, codes = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => ERROR_STATUS[code] === status)): Json {
  const headers: { [name: string]: Json } = {};
  if (status === 401) headers['WWW-Authenticate'] = { schema: { type: 'string' }, description: '`Bearer realm="logout-all"`' };
  if (status === 429) headers['Retry-After'] = { schema: { type: 'integer' }, description: 'Seconds to wait before trying again.' };
  return {
    description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: jsonContent({
      type: 'object',
      required: ['error'],
      additionalProperties: false,
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          additionalProperties: false,
          properties: { code: { type: 'string', enum: codes }, message: { type: 'string' } },
        },
      },
    }),
  };
}

const ok = (description: string, schema: JsonSchema): Json => ({ description, content: jsonContent(schema) });

const SUCCESS: JsonSchema = {
  type: 'object',
  required: ['success'],
  additionalProperties: false,
  properties: { success: { const: true } },
};

const COMMON_ERRORS = {
  '500': errorResponse(500, 'Unexpected error; the message is masked.'),
  '503': errorResponse(503, 'A dependency the request needs is unreachable; retry later.'),
};
const AUTH_ERRORS = {
  '401': errorResponse(401, 'No token, or a bad, expired or revoked one (`UNAUTHENTICATED`).'),
  ...COMMON_ERRORS,
};
const BODY_ERRORS = {
  '400': errorResponse(400, 'A missing or invalid field, a wrong type, or malformed JSON (`BAD_USER_INPUT`).'),
  '413': errorResponse(413, 'Body over 100 kB (`PAYLOAD_TOO_LARGE`).'),
  '415': errorResponse(415, 'A body not sent as `application/json` (`BAD_USER_INPUT`).', ['BAD_USER_INPUT']),
};

const bearer = [{ bearer: [] }];

function body(schema: JsonSchema, required: boolean): Json {
  return { required, content: jsonContent(schema) };
}

const INPUT_RULES =
  'email: a valid address, at most 254 characters (stored lower-cased and trimmed); ' +
  'name: 1-100 characters after trimming; password: 8-128 characters; deviceInfo: at most 200 characters, ' +
  'derived from the User-Agent when absent.';

const EVENTS_DESCRIPTION = `Server-Sent Events. A bad or revoked token gets a 401 JSON error, not a stream.

- \`event: connected\`, first, once the server is listening: data \`{"sessionId", "userId"}\` (schema \`ConnectedEvent\`).
- \`event: session-revoked\` for each revocation of any of the user's sessions, in order: data as \`SessionRevokedEvent\`.
  After one with \`"current": true\` the server ends the stream.
- Every event has an \`id:\`, a counter per connection starting at 1.
- A comment line \`: ping\` every \`SSE_HEARTBEAT_MS\` (default 15000).

The token may come from \`Authorization: Bearer\` or \`?token=\` (a browser EventSource cannot set headers); this is the only route that takes \`?token=\`.`;

/** Built once per process: it depends only on the code. */
let document: Json | undefined;

export function openApiDocument(): Json {
  document ??= {
    openapi: '3.1.0',
    info: {
      title: 'logout-all REST compatibility API',
      version: '1.0.0',
      description:
        'The `/api/auth/*` routes of the original server, served on the same resolvers as GraphQL (`/graphql`). ' +
        'Errors answer `{"error": {"code", "message"}}`. An unknown `/api/*` path is 404 `NOT_FOUND`; a known path ' +
        'with the wrong method is 404 `NOT_FOUND` with an `Allow` header.',
    },
    paths: {
      '/api/auth/register': {
        post: {
          operationId: 'register',
          summary: 'Create an account and its first session',
          description: INPUT_RULES,
          security: [],
          requestBody: body(ref('RegisterInput'), true),
          responses: {
            '201': ok('The new account, its first session and that session\'s token.', ref('AuthPayload')),
            ...BODY_ERRORS,
            '409': errorResponse(409, 'The email is already in use (`EMAIL_TAKEN`).'),
            '429': errorResponse(429, 'Too many attempts (`RATE_LIMITED`).'),
            ...COMMON_ERRORS,
          },
        },
      },
      '/api/auth/login': {
        post: {
          operationId: 'login',
          summary: 'Open a new session',
          description: 'Wrong email and wrong password get the same answer. ' + INPUT_RULES,
          security: [],
          requestBody: body(ref('LoginInput'), true),
          responses: {
            '200': ok('The new session and its token.', ref('AuthPayload')),
            ...BODY_ERRORS,
            '401': errorResponse(401, 'Wrong email or password (`INVALID_CREDENTIALS`).'),
            '429': errorResponse(429, 'Too many attempts (`RATE_LIMITED`).'),
            ...COMMON_ERRORS,
          },
        },
      },
      '/api/auth/logout': {
        post: {
          operationId: 'logout',
          summary: 'Revoke the caller\'s session',
          description: 'The user\'s other event listeners get `session-revoked` with reason `LOGOUT`.',
          security: bearer,
          responses: { '200': ok('Signed out.', SUCCESS), ...AUTH_ERRORS },
        },
      },
      '/api/auth/logout-all': {
        post: {
          operationId: 'logoutAll',
          summary: 'Revoke every session of the user',
          description: 'Each listener gets `session-revoked` with reason `LOGOUT_ALL`; `exceptCurrent: true` keeps the caller signed in.',
          security: bearer,
          requestBody: body(
            { type: 'object', properties: { exceptCurrent: { type: 'boolean', default: false } } },
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
            ...AUTH_ERRORS,
          },
        },
      },
      '/api/auth/sessions': {
        get: {
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
      },
      '/api/auth/sessions/{id}': {
        delete: {
          operationId: 'revokeSession',
          summary: 'Revoke one of the caller\'s own sessions',
          description: 'Listeners get `session-revoked` with reason `REVOKED`.',
          security: bearer,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': ok('Revoked.', SUCCESS),
            '400': errorResponse(400, 'Not a session id (`BAD_USER_INPUT`).'),
            '404': errorResponse(404, 'Not an active session of the caller, whoever owns it (`NOT_FOUND`).'),
            ...AUTH_ERRORS,
          },
        },
      },
      '/api/auth/me': {
        get: {
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
      },
      '/api/auth/events': {
        get: {
          operationId: 'events',
          summary: 'Revocations of the user\'s sessions, as Server-Sent Events',
          description: EVENTS_DESCRIPTION,
          security: [{ bearer: [] }, { queryToken: [] }],
          responses: {
            '200': {
              description: 'An event stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
              'x-sse-events': { connected: ref('ConnectedEvent'), 'session-revoked': ref('SessionRevokedEvent') },
            },
            ...AUTH_ERRORS,
          },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          security: [],
          responses: { '200': ok('OpenAPI 3.1.', { type: 'object', required: ['openapi', 'paths'] }) },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'Only on `/api/auth/events`.' },
      },
      schemas: {
        User: jsonSchemaOf('User'),
        Session: jsonSchemaOf('Session'),
        AuthPayload: jsonSchemaOf('AuthPayload'),
        LogoutAllPayload: jsonSchemaOf('LogoutAllPayload'),
        SessionRevokedEvent: jsonSchemaOf('SessionRevokedEvent'),
        RegisterInput: jsonSchemaOf('RegisterInput'),
        LoginInput: jsonSchemaOf('LoginInput'),
        ConnectedEvent: {
          type: 'object',
          required: ['sessionId', 'userId'],
          additionalProperties: false,
          properties: { sessionId: { type: 'string' }, userId: { type: 'string' } },
        },
      },
    },
  };
  return document;
}

function propertiesOf(schema: JsonSchema): { [key: string]: Json } {
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return {};
  return properties;
}
