import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorResponse } from '../src/http/responses.js';
import { AppError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { ok } from './support/client.js';
import { MeDocument, SessionsDocument } from './support/operations.js';
import { badTokens } from './support/bad-tokens.js';
import { dropDatabase, startServer, testDatabaseUri, type TestServer, useTestServer } from './support/server.js';

interface RestUser {
  id: string;
  email: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}
interface RestSession {
  id: string;
  deviceInfo: string;
  ipAddress: string;
  userAgent: string;
  lastActivity: string;
  createdAt: string;
  expiresAt: string;
  current: boolean;
}
interface AuthBody {
  token: string;
  user: RestUser;
  session: RestSession;
}
interface ErrorBody {
  error: { code: string; message: string };
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One REST call as any client makes it: fetch, JSON in and out. `raw` sends a body verbatim. */
async function api(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  // A raw body is malformed JSON declared as JSON (a body of another type is 415: test/hostile.test.ts).
  if (options.raw !== undefined) headers['content-type'] ??= 'application/json';
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** An error reply: status, code, and the exact `{"error": {"code", "message"}}` shape. */
function expectError(reply: Reply, status: number, code: string): ErrorBody {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  return reply.body as ErrorBody;
}

let counter = 0;
const email = (label = 'rest'): string => `${label}.${Date.now().toString(36)}.${process.pid}.${++counter}@example.com`;
const PASSWORD = 'correct horse battery';

describe('REST routes', () => {
  const mongoUri = testDatabaseUri();
  let server: TestServer;
  let base: string;
  const register = async (extra: Record<string, unknown> = {}): Promise<AuthBody> => {
    const reply = await api(base, 'POST', '/api/auth/register', { json: { name: 'Rest User', email: email(), password: PASSWORD, ...extra } });
    expect(reply.status).toBe(201);
    return reply.body as AuthBody;
  };
  const login = async (address: string, extra: Record<string, unknown> = {}): Promise<AuthBody> => {
    const reply = await api(base, 'POST', '/api/auth/login', { json: { email: address, password: PASSWORD, ...extra } });
    expect(reply.status).toBe(200);
    return reply.body as AuthBody;
  };

  beforeAll(async () => {
    server = await startServer({ env: { MONGODB_URI: mongoUri } });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await dropDatabase(mongoUri);
  });

  describe('POST /api/auth/register', () => {
    it('is 201 with {token, user, session}, the objects carrying exactly the GraphQL fields', async () => {
      const address = email('Mixed.Case');
      const reply = await api(base, 'POST', '/api/auth/register', {
        json: { name: '  Ada Lovelace ', email: `  ${address.toUpperCase()} `, password: PASSWORD, deviceInfo: 'laptop' },
      });
      expect(reply.status).toBe(201);
      const body = reply.body as AuthBody;
      expect(Object.keys(body).sort()).toEqual(['session', 'token', 'user']);
      expect(body.user).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        email: address.toLowerCase(),
        name: 'Ada Lovelace',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(body.session).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        deviceInfo: 'laptop',
        ipAddress: '127.0.0.1',
        userAgent: 'node',
        lastActivity: expect.any(String),
        createdAt: expect.any(String),
        expiresAt: expect.any(String),
        current: true,
      });
      for (const date of [body.user.createdAt, body.session.expiresAt]) expect(new Date(date).toISOString()).toBe(date);

      // The same objects GraphQL prints for the same caller: no field more, none less, same values.
      const graphql = await ok(server.graphqlUrl, MeDocument, {}, body.token);
      expect((await api(base, 'GET', '/api/auth/me', { token: body.token })).body).toEqual({ user: graphql.me });
      const sessions = await ok(server.graphqlUrl, SessionsDocument, {}, body.token);
      expect((await api(base, 'GET', '/api/auth/sessions', { token: body.token })).body).toEqual(sessions);
    });

    it('is 400 BAD_USER_INPUT for each input rule, a wrong type, and a body that is not a JSON object', async () => {
      const input = { name: 'Ada', email: email(), password: PASSWORD };
      const bodies: unknown[] = [
        { ...input, email: 'not-an-email' },
        { ...input, email: `${'a'.repeat(250)}@example.com` },
        { ...input, name: '   ' },
        { ...input, name: 'n'.repeat(101) },
        { ...input, password: 'short' },
        { ...input, password: 'p'.repeat(129) },
        { ...input, deviceInfo: 'd'.repeat(201) },
        { name: 'Ada', password: PASSWORD },
        // An object where a string belongs: stopped by validation, never a database operator.
        { ...input, email: { $ne: null } },
        { ...input, name: ['Ada'] },
        { ...input, password: 12345678 },
        [input],
        'a string',
        null,
      ];
      for (const body of bodies) expectError(await api(base, 'POST', '/api/auth/register', { json: body }), 400, 'BAD_USER_INPUT');
      for (const raw of ['{"name": "Ada",', 'name=Ada&email=a@example.com', '']) {
        expectError(await api(base, 'POST', '/api/auth/register', { raw, headers: { 'content-type': 'application/json' } }), 400, 'BAD_USER_INPUT');
      }
      const malformed = expectError(await api(base, 'POST', '/api/auth/register', { raw: '{oops' }), 400, 'BAD_USER_INPUT');
      expect(malformed.error.message).toMatch(/JSON/);
    });

    it('is 409 EMAIL_TAKEN for an address already in use, whatever its case', async () => {
      const first = await register();
      const again = await api(base, 'POST', '/api/auth/register', {
        json: { name: 'Other', email: first.user.email.toUpperCase(), password: PASSWORD },
      });
      expectError(again, 409, 'EMAIL_TAKEN');
    });
  });

  describe('POST /api/auth/login', () => {
    it('is 200 with a new session, its device derived from the User-Agent when none is given', async () => {
      const first = await register();
      const reply = await api(base, 'POST', '/api/auth/login', {
        json: { email: first.user.email, password: PASSWORD },
        headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' },
      });
      expect(reply.status).toBe(200);
      const body = reply.body as AuthBody;
      expect(body.user).toEqual(first.user);
      expect(body.session).toMatchObject({ deviceInfo: 'Firefox 133 on Linux', current: true });
      expect(body.session.id).not.toBe(first.session.id);
      expect((await login(first.user.email, { deviceInfo: 'phone' })).session.deviceInfo).toBe('phone');
    });

    it('is 401 INVALID_CREDENTIALS with one message for a wrong password and an unknown email', async () => {
      const first = await register();
      const wrong = expectError(
        await api(base, 'POST', '/api/auth/login', { json: { email: first.user.email, password: 'not the password' } }),
        401,
        'INVALID_CREDENTIALS',
      );
      const unknown = expectError(
        await api(base, 'POST', '/api/auth/login', { json: { email: email('nobody'), password: PASSWORD } }),
        401,
        'INVALID_CREDENTIALS',
      );
      expect(unknown.error.message).toBe(wrong.error.message);
    });

    it('is 400 BAD_USER_INPUT for a missing field, an operator object, or malformed JSON', async () => {
      const first = await register();
      for (const body of [{ email: first.user.email }, { email: first.user.email, password: { $gt: '' } }, { password: PASSWORD }]) {
        expectError(await api(base, 'POST', '/api/auth/login', { json: body }), 400, 'BAD_USER_INPUT');
      }
      expectError(await api(base, 'POST', '/api/auth/login', { raw: '{"email":' }), 400, 'BAD_USER_INPUT');
    });
  });

  describe('authenticated routes', () => {
    it('GET /api/auth/me is 200 {user}', async () => {
      const first = await register();
      expect(await api(base, 'GET', '/api/auth/me', { token: first.token })).toMatchObject({ status: 200, body: { user: first.user } });
    });

    it('answer 401 UNAUTHENTICATED with WWW-Authenticate for no token, a bad, forged, expired or revoked one', async () => {
      const first = await register();
      const revoked = await login(first.user.email);
      expect((await api(base, 'POST', '/api/auth/logout', { token: revoked.token })).status).toBe(200);
      const tokens = [undefined, ...badTokens(first).map(([, token]) => token), revoked.token];
      const routes: Array<[string, string]> = [
        ['GET', '/api/auth/me'],
        ['GET', '/api/auth/sessions'],
        ['POST', '/api/auth/logout'],
        ['POST', '/api/auth/logout-all'],
        ['DELETE', `/api/auth/sessions/${first.session.id}`],
      ];
      for (const [method, path] of routes) {
        for (const token of tokens) {
          const reply = await api(base, method, path, { token });
          expectError(reply, 401, 'UNAUTHENTICATED');
          expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
        // Only the events route takes `?token=`: elsewhere a token in the URL would end up in logs.
        expectError(await api(base, method, `${path}?token=${first.token}`), 401, 'UNAUTHENTICATED');
        expectError(await api(base, method, path, { headers: { authorization: `Basic ${first.token}` } }), 401, 'UNAUTHENTICATED');
      }
      // The first session was never touched by all this.
      expect((await api(base, 'GET', '/api/auth/me', { token: first.token })).status).toBe(200);
    });

    it('GET /api/auth/sessions lists active sessions newest first, one current, with device, address and agent', async () => {
      const first = await register({ deviceInfo: 'laptop' });
      const second = await login(first.user.email, { deviceInfo: 'phone' });
      const third = await login(first.user.email);
      const reply = await api(base, 'GET', '/api/auth/sessions', { token: second.token });
      expect(reply.status).toBe(200);
      const { sessions } = reply.body as { sessions: RestSession[] };
      expect(sessions.map((s) => s.id)).toEqual([third.session.id, second.session.id, first.session.id]);
      expect(sessions.map((s) => s.current)).toEqual([false, true, false]);
      expect(sessions.map((s) => s.deviceInfo)).toEqual(['Node.js', 'phone', 'laptop']);
      for (const session of sessions) expect(session).toMatchObject({ ipAddress: '127.0.0.1', userAgent: 'node' });
    });

    it('POST /api/auth/logout is 200 {success: true} and revokes only the caller', async () => {
      const first = await register();
      const other = await login(first.user.email);
      expect(await api(base, 'POST', '/api/auth/logout', { token: other.token })).toMatchObject({ status: 200, body: { success: true } });
      expectError(await api(base, 'GET', '/api/auth/me', { token: other.token }), 401, 'UNAUTHENTICATED');
      expectError(await api(base, 'POST', '/api/auth/logout', { token: other.token }), 401, 'UNAUTHENTICATED');
      const { sessions } = (await api(base, 'GET', '/api/auth/sessions', { token: first.token })).body as { sessions: RestSession[] };
      expect(sessions.map((s) => s.id)).toEqual([first.session.id]);
    });

    it('POST /api/auth/logout-all revokes every session, or all but the caller with exceptCurrent', async () => {
      const first = await register();
      const second = await login(first.user.email);
      const third = await login(first.user.email);

      const except = await api(base, 'POST', '/api/auth/logout-all', { token: second.token, json: { exceptCurrent: true } });
      expect(except.status).toBe(200);
      expect(except.body).toEqual({ success: true, revokedCount: 2, revokedSessionIds: expect.any(Array) });
      expect((except.body as { revokedSessionIds: string[] }).revokedSessionIds.sort()).toEqual([first.session.id, third.session.id].sort());
      expect((await api(base, 'GET', '/api/auth/me', { token: second.token })).status).toBe(200);

      const fourth = await login(first.user.email);
      // No body at all, as the curl example sends it.
      const all = await api(base, 'POST', '/api/auth/logout-all', { token: fourth.token });
      expect(all.status).toBe(200);
      expect(all.body).toEqual({ success: true, revokedCount: 2, revokedSessionIds: expect.arrayContaining([second.session.id, fourth.session.id]) });
      for (const token of [first.token, second.token, third.token, fourth.token]) {
        expectError(await api(base, 'GET', '/api/auth/sessions', { token }), 401, 'UNAUTHENTICATED');
      }
    });

    it('POST /api/auth/logout-all is 400 for a non-boolean exceptCurrent or malformed JSON, and revokes nothing', async () => {
      const first = await register();
      for (const json of [{ exceptCurrent: 'yes' }, { exceptCurrent: 1 }, [true]]) {
        expectError(await api(base, 'POST', '/api/auth/logout-all', { token: first.token, json }), 400, 'BAD_USER_INPUT');
      }
      expectError(await api(base, 'POST', '/api/auth/logout-all', { token: first.token, raw: '{"exceptCurrent": tru' }), 400, 'BAD_USER_INPUT');
      // Authentication comes first: an anonymous caller learns nothing about the body rules.
      expectError(await api(base, 'POST', '/api/auth/logout-all', { raw: '{' }), 401, 'UNAUTHENTICATED');
      expect((await api(base, 'GET', '/api/auth/me', { token: first.token })).status).toBe(200);
    });

    it('DELETE /api/auth/sessions/:id revokes one own session; another user\'s id is 404 and that session stays', async () => {
      const first = await register();
      const second = await login(first.user.email);
      const stranger = await register();

      expect(await api(base, 'DELETE', `/api/auth/sessions/${second.session.id}`, { token: first.token })).toMatchObject({
        status: 200,
        body: { success: true },
      });
      expectError(await api(base, 'GET', '/api/auth/me', { token: second.token }), 401, 'UNAUTHENTICATED');
      // Already revoked: no longer an active session of the caller.
      expectError(await api(base, 'DELETE', `/api/auth/sessions/${second.session.id}`, { token: first.token }), 404, 'NOT_FOUND');

      expectError(await api(base, 'DELETE', `/api/auth/sessions/${stranger.session.id}`, { token: first.token }), 404, 'NOT_FOUND');
      expect((await api(base, 'GET', '/api/auth/me', { token: stranger.token })).status).toBe(200);
      const { sessions } = (await api(base, 'GET', '/api/auth/sessions', { token: stranger.token })).body as { sessions: RestSession[] };
      expect(sessions.map((s) => s.id)).toEqual([stranger.session.id]);

      expectError(await api(base, 'DELETE', `/api/auth/sessions/${randomUUID()}`, { token: first.token }), 404, 'NOT_FOUND');
      for (const id of ['not-a-session-id', '%7B%22%24ne%22%3Anull%7D', '%E0%A4%A']) {
        expectError(await api(base, 'DELETE', `/api/auth/sessions/${id}`, { token: first.token }), 400, 'BAD_USER_INPUT');
      }
    });
  });

  describe('routing', () => {
    it('answers unknown /api paths with 404 NOT_FOUND JSON', async () => {
      for (const path of ['/api/auth/nope', '/api/auth', '/api/v2/auth/login', '/api/auth/sessions/a/b']) {
        expectError(await api(base, 'GET', path), 404, 'NOT_FOUND');
        expectError(await api(base, 'POST', path), 404, 'NOT_FOUND');
      }
    });

    it('answers a known path with the wrong method with 404 NOT_FOUND and Allow', async () => {
      const cases: Array<[string, string, string]> = [
        ['GET', '/api/auth/login', 'POST'],
        ['PUT', '/api/auth/register', 'POST'],
        ['GET', '/api/auth/logout-all', 'POST'],
        ['POST', '/api/auth/sessions', 'GET'],
        ['GET', `/api/auth/sessions/${randomUUID()}`, 'DELETE'],
        ['DELETE', '/api/auth/me', 'GET'],
        ['POST', '/api/auth/events', 'GET'],
      ];
      for (const [method, path, allow] of cases) {
        const reply = await api(base, method, path);
        expect(reply.status).toBe(404);
        expect(reply.headers.get('allow')).toBe(allow);
        expect(reply.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
      }
    });
  });
});

describe('REST errors when a dependency is down', () => {
  const server = useTestServer({ ownRedis: true });

  it('is 503 SERVICE_UNAVAILABLE when a revocation cannot reach Redis, and the session stays usable', async () => {
    const reply = await api(server.url, 'POST', '/api/auth/register', { json: { name: 'A', email: email(), password: PASSWORD } });
    const { token } = reply.body as AuthBody;
    await server.redis.stop();
    try {
      expectError(await api(server.url, 'POST', '/api/auth/logout', { token }), 503, 'SERVICE_UNAVAILABLE');
      expectError(await api(server.url, 'POST', '/api/auth/logout-all', { token }), 503, 'SERVICE_UNAVAILABLE');
      // No stream can be promised without the broker: a JSON error, not a stream.
      expectError(await api(server.url, 'GET', `/api/auth/events?token=${token}`), 503, 'SERVICE_UNAVAILABLE');
      // MongoDB still answers who the caller is.
      expect((await api(server.url, 'GET', '/api/auth/me', { token })).status).toBe(200);
    } finally {
      await server.redis.start();
    }
  });
});

describe('REST rate limits', () => {
  const server = useTestServer({ env: { RATE_LIMIT_PER_ACCOUNT_ADDRESS: '2', RATE_LIMIT_WINDOW: '10m' } });

  it('is 429 RATE_LIMITED with Retry-After once an address has spent its failures on an account, even with the right password', async () => {
    const address = email('limited');
    expect((await api(server.url, 'POST', '/api/auth/register', { json: { name: 'L', email: address, password: PASSWORD } })).status).toBe(201);
    expectError(await api(server.url, 'POST', '/api/auth/login', { json: { email: address, password: 'wrong password' } }), 401, 'INVALID_CREDENTIALS');
    expectError(await api(server.url, 'POST', '/api/auth/login', { json: { email: address, password: 'wrong again' } }), 401, 'INVALID_CREDENTIALS');
    const refused = await api(server.url, 'POST', '/api/auth/login', { json: { email: address, password: PASSWORD } });
    expectError(refused, 429, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });
});

describe('errorResponse()', () => {
  const log = createLogger({ level: 'silent', serverId: 'test' });

  it('masks anything that is not an AppError as a 500 without its message', async () => {
    const response = errorResponse(new Error('connection string mongodb://secret@db'), log);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error' } });
  });

  it('maps RATE_LIMITED to 429 with Retry-After in whole seconds', async () => {
    const response = errorResponse(new AppError('RATE_LIMITED', undefined, { retryAfter: 29.2 }), log);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await response.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) } });
  });

  it('maps an unreachable dependency to 503 as the resolvers do', async () => {
    const error = Object.assign(new Error('getaddrinfo ECONNREFUSED'), { name: 'MongoServerSelectionError' });
    expect(errorResponse(error, log).status).toBe(503);
  });
});
