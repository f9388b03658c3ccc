import { MAX_LENGTH, MIN_LENGTH } from '../src/auth/validation.js';
import { ERROR_STATUS, type ErrorCode } from '../src/errors.js';
import { MAX_BODY_BYTES } from '../src/http/body-limit.js';
// Deliberate: the documented schemas come from the GraphQL types, like the bodies themselves.
import { jsonSchemaOf, ref, type Json, type JsonSchema } from './shapes.js';

/**
 * `GET /api/openapi.json`: the REST routes in OpenAPI 3.1. Object shapes come
 * from the GraphQL types (shapes.ts), error codes from ERROR_STATUS and the
 * paths from the router's table (each route carries its operation, routes.ts),
 * so only prose is written twice nowhere; test/rest-openapi.test.ts checks real
 * responses against the schemas.
 */

const jsonContent = (schema: JsonSchema): Json => ({ 'application/json': { schema } });

/** The error body for one status: the codes ERROR_STATUS maps to it, unless the status is more precise than the code's. */
export function errorDoc(
  status: number,
  description: string,
  codes = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => ERROR_STATUS[code] === status),
): Json {
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

export const ok = (description: string, schema: JsonSchema): Json => ({ description, content: jsonContent(schema) });

export const SUCCESS: JsonSchema = {
  type: 'object',
  required: ['success'],
  additionalProperties: false,
  properties: { success: { const: true } },
};

export const COMMON_ERRORS = {
  '500': errorDoc(500, 'Unexpected error; the message is masked.'),
  '503': errorDoc(503, 'A dependency the request needs is unreachable; retry later.'),
};
export const AUTH_ERRORS = {
  '401': errorDoc(401, 'No token, or a bad, expired or revoked one (`UNAUTHENTICATED`).'),
  ...COMMON_ERRORS,
};
export const BODY_ERRORS = {
  '400': errorDoc(400, 'A missing or invalid field, a wrong type, or malformed JSON (`BAD_USER_INPUT`).'),
  '413': errorDoc(413, `Body over ${MAX_BODY_BYTES / 1024} kB (\`PAYLOAD_TOO_LARGE\`).`),
  '415': errorDoc(415, 'A body not sent as `application/json` (`BAD_USER_INPUT`).', ['BAD_USER_INPUT']),
};

export const bearer = [{ bearer: [] }];

export function body(schema: JsonSchema, required: boolean): Json {
  return { required, content: jsonContent(schema) };
}

export const INPUT_RULES =
  `email: a valid address, at most ${MAX_LENGTH.email} characters (stored lower-cased and trimmed); ` +
  `name: ${MIN_LENGTH.name}-${MAX_LENGTH.name} characters after trimming; password: ${MIN_LENGTH.password}-${MAX_LENGTH.password} characters; ` +
  `deviceInfo: at most ${MAX_LENGTH.deviceInfo} characters, ` +
  'derived from the User-Agent when absent.';

export const EVENTS_DESCRIPTION = `Server-Sent Events. A bad or revoked token gets a 401 JSON error, not a stream.

- \`event: connected\`, first, once the server is listening: data \`{"sessionId", "userId"}\` (schema \`ConnectedEvent\`).
- \`event: session-revoked\` for each revocation of any of the user's sessions, in order: data as \`SessionRevokedEvent\`.
  After one with \`"current": true\` the server ends the stream.
- \`event: session-created\` for each new sign-in on the user's account but the listener's own: data as \`Session\`.
- \`event: session-updated\` for each renamed session of the user (the listener's own included): data \`{"sessionId", "deviceInfo"}\`, the new name.
- Events come in the order they happened for the user (a rename before a revocation of that session comes first).
- Every event has an \`id:\`, a counter per connection starting at 1.
- A comment line \`: ping\` every \`SSE_HEARTBEAT_MS\` (default 15000).

The token may come from \`Authorization: Bearer\` or \`?token=\` (a browser EventSource cannot set headers); this is the only route that takes \`?token=\`.`;

/** Built once per process: it depends only on the code. */
let document: Json | undefined;

/** The REST paths, one operation per route, in the order of the router's table. */
function pathsOf(routes: readonly DocumentedRoute[]): { [path: string]: Json } {
  const paths: { [path: string]: { [method: string]: Json } } = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = route.doc;
  }
  return paths;
}

/** What the document needs of a route: the router's own table is the route list. */
export interface DocumentedRoute {
  method: string;
  path: string;
  /** The OpenAPI operation object. */
  doc: Json;
}

export function openApiDocument(routes: readonly DocumentedRoute[]): Json {
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
    paths: pathsOf(routes),
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
        ChangePasswordPayload: jsonSchemaOf('ChangePasswordPayload'),
        SecurityEvent: jsonSchemaOf('SecurityEvent'),
        SecurityEventConnection: jsonSchemaOf('SecurityEventConnection'),
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

export function propertiesOf(schema: JsonSchema): { [key: string]: Json } {
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return {};
  return properties;
}

/** The step-up of sensitive actions (FRESH_AGE, src/auth/step-up.ts), as each route documents it. */
export const CURRENT_PASSWORD = { type: 'string', description: 'The current password: a step-up when FRESH_AGE is set and the sign-in is older.' } as const;
export const REAUTHENTICATION = errorDoc(403, 'A fresh sign-in is needed: send `currentPassword` (`REAUTHENTICATION_REQUIRED`).');
export const STEP_UP =
  'With `FRESH_AGE` set, needs `currentPassword` in the body or a sign-in or refresh within it, else `403 REAUTHENTICATION_REQUIRED`.';

/** POST /api/auth/refresh. */
export const REFRESH_DOC: Json = {
  operationId: 'refresh',
  summary: 'Spend a refresh token for a new token and refresh token',
  description:
    'No bearer token. The same session, its idle deadline moved on. A spent, unknown or expired refresh token is `UNAUTHENTICATED`; ' +
    'one spent more than `REFRESH_REUSE_GRACE` ago ends its session (`session-revoked` with reason `TOKEN_REUSE` on every device). ' +
    'Within the grace the same new refresh token is answered again. Failures count toward the sign-in limits.',
  security: [],
  requestBody: body({ type: 'object', required: ['refreshToken'], properties: { refreshToken: { type: 'string' } } }, true),
  responses: {
    '200': ok('A new token and refresh token of the same session.', ref('AuthPayload')),
    ...BODY_ERRORS,
    '401': errorDoc(401, 'A spent, unknown or expired refresh token (`UNAUTHENTICATED`).'),
    '429': errorDoc(429, 'Too many attempts (`RATE_LIMITED`).'),
    ...COMMON_ERRORS,
  },
};
