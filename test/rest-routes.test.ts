import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../src/http/responses.js';
import { AppError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { ok, PASSWORD, uniqueEmail } from './support/client.js';
import { MeDocument, SessionsDocument } from './support/operations.js';
import { badTokens } from './support/bad-tokens.js';
import { expectRestError, restClient, restError, statusAndBody, type RestAuth, type RestSession } from './support/rest.js';
import { useTestServer } from './support/server.js';

describe('REST routes', () => {
  const server = useTestServer();
  const api = restClient(server);
  const register = api.register;
  const login = (email: string, extra: { deviceInfo?: string } = {}): Promise<RestAuth> => api.login({ email, ...extra });

  describe('POST /api/auth/register', () => {
    it('is 201 with {token, refreshToken, user, session}, the objects carrying exactly the GraphQL fields', async () => {
      const address = uniqueEmail('Mixed.Case');
      const reply = await api.call('POST', '/api/auth/register', {
        json: { name: '  Ada Lovelace ', email: `  ${address.toUpperCase()} `, password: PASSWORD, deviceInfo: 'laptop' },
      });
      expect(reply.status).toBe(201);
      const body = reply.body as RestAuth;
      expect(Object.keys(body).sort()).toEqual(['refreshToken', 'session', 'token', 'user']);
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
        idleExpiresAt: expect.any(String),
        current: true,
      });
      for (const date of [body.user.createdAt, body.session.expiresAt]) expect(new Date(date).toISOString()).toBe(date);

      // The same objects GraphQL prints for the same caller: no field more, none less, same values.
      const graphql = await ok(server.graphqlUrl, MeDocument, {}, body.token);
      expect((await api.call('GET', '/api/auth/me', { token: body.token })).body).toEqual({ user: graphql.me });
      const sessions = await ok(server.graphqlUrl, SessionsDocument, {}, body.token);
      expect((await api.call('GET', '/api/auth/sessions', { token: body.token })).body).toEqual(sessions);
    });

    it('is 400 BAD_USER_INPUT for each input rule, a wrong type, and a body that is not a JSON object', async () => {
      const input = { name: 'Ada', email: uniqueEmail(), password: PASSWORD };
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
      for (const body of bodies) expectRestError(await api.call('POST', '/api/auth/register', { json: body }), 400, 'BAD_USER_INPUT');
      for (const body of ['{"name": "Ada",', 'name=Ada&email=a@example.com', '']) {
        expectRestError(await api.call('POST', '/api/auth/register', { body, headers: { 'content-type': 'application/json' } }), 400, 'BAD_USER_INPUT');
      }
      expect(statusAndBody(await api.call('POST', '/api/auth/register', { body: '{oops' }))).toMatchInlineSnapshot(`
        {
          "body": {
            "error": {
              "code": "BAD_USER_INPUT",
              "message": "request body is not valid JSON",
            },
          },
          "status": 400,
        }
      `);
    });

    it('is 409 EMAIL_TAKEN for an address already in use, whatever its case', async () => {
      const first = await register();
      const again = await api.call('POST', '/api/auth/register', {
        json: { name: 'Other', email: first.user.email.toUpperCase(), password: PASSWORD },
      });
      expect(statusAndBody(again)).toMatchInlineSnapshot(`
        {
          "body": {
            "error": {
              "code": "EMAIL_TAKEN",
              "message": "An account with this email already exists",
            },
          },
          "status": 409,
        }
      `);
    });
  });

  describe('POST /api/auth/login', () => {
    it('is 200 with a new session, its device derived from the User-Agent when none is given', async () => {
      const first = await register();
      const reply = await api.call('POST', '/api/auth/login', {
        json: { email: first.user.email, password: PASSWORD },
        headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' },
      });
      expect(reply.status).toBe(200);
      const body = reply.body as RestAuth;
      expect(body.user).toEqual(first.user);
      expect(body.session).toMatchObject({ deviceInfo: 'Firefox 133 on Linux', current: true });
      expect(body.session.id).not.toBe(first.session.id);
      expect((await login(first.user.email, { deviceInfo: 'phone' })).session.deviceInfo).toBe('phone');
    });

    it('is 401 INVALID_CREDENTIALS with one message for a wrong password and an unknown email', async () => {
      const first = await register();
      const wrong = await api.post('/api/auth/login', { json: { email: first.user.email, password: 'not the password' } });
      const unknown = await api.post('/api/auth/login', { json: { email: uniqueEmail('nobody'), password: PASSWORD } });
      expect(statusAndBody(wrong)).toMatchInlineSnapshot(`
        {
          "body": {
            "error": {
              "code": "INVALID_CREDENTIALS",
              "message": "Invalid email or password",
            },
          },
          "status": 401,
        }
      `);
      expect(statusAndBody(unknown)).toEqual(statusAndBody(wrong));
    });

    it('is 400 BAD_USER_INPUT for a missing field, an operator object, or malformed JSON', async () => {
      const first = await register();
      for (const body of [{ email: first.user.email }, { email: first.user.email, password: { $gt: '' } }, { password: PASSWORD }]) {
        expectRestError(await api.call('POST', '/api/auth/login', { json: body }), 400, 'BAD_USER_INPUT');
      }
      expectRestError(await api.call('POST', '/api/auth/login', { body: '{"email":' }), 400, 'BAD_USER_INPUT');
    });
  });

  describe('authenticated routes', () => {
    it('GET /api/auth/me is 200 {user}', async () => {
      const first = await register();
      expect(await api.call('GET', '/api/auth/me', { token: first.token })).toMatchObject({ status: 200, body: { user: first.user } });
    });

    it('answer 401 UNAUTHENTICATED with WWW-Authenticate for no token, a bad, forged, expired or revoked one', async () => {
      const first = await register();
      const revoked = await login(first.user.email);
      expect((await api.call('POST', '/api/auth/logout', { token: revoked.token })).status).toBe(200);
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
          const reply = await api.call(method, path, { token });
          expectRestError(reply, 401, 'UNAUTHENTICATED');
          expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
        // Only the events route takes `?token=`: elsewhere a token in the URL would end up in logs.
        expectRestError(await api.call(method, `${path}?token=${first.token}`), 401, 'UNAUTHENTICATED');
        expectRestError(await api.call(method, path, { headers: { authorization: `Basic ${first.token}` } }), 401, 'UNAUTHENTICATED');
      }
      // The first session was never touched by all this.
      expect((await api.call('GET', '/api/auth/me', { token: first.token })).status).toBe(200);
    });

    it('GET /api/auth/sessions lists active sessions newest first, one current, with device, address and agent', async () => {
      const first = await register({ deviceInfo: 'laptop' });
      const second = await login(first.user.email, { deviceInfo: 'phone' });
      const third = await login(first.user.email);
      const reply = await api.call('GET', '/api/auth/sessions', { token: second.token });
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
      expect(await api.call('POST', '/api/auth/logout', { token: other.token })).toMatchObject({ status: 200, body: { success: true } });
      expectRestError(await api.call('GET', '/api/auth/me', { token: other.token }), 401, 'UNAUTHENTICATED');
      expectRestError(await api.call('POST', '/api/auth/logout', { token: other.token }), 401, 'UNAUTHENTICATED');
      const { sessions } = (await api.call('GET', '/api/auth/sessions', { token: first.token })).body as { sessions: RestSession[] };
      expect(sessions.map((s) => s.id)).toEqual([first.session.id]);
    });

    it('POST /api/auth/logout-all revokes every session, or all but the caller with exceptCurrent', async () => {
      const first = await register();
      const second = await login(first.user.email);
      const third = await login(first.user.email);

      const except = await api.call('POST', '/api/auth/logout-all', { token: second.token, json: { exceptCurrent: true } });
      expect(except.status).toBe(200);
      expect(except.body).toEqual({ success: true, revokedCount: 2, revokedSessionIds: expect.any(Array) });
      expect((except.body as { revokedSessionIds: string[] }).revokedSessionIds.sort()).toEqual([first.session.id, third.session.id].sort());
      expect((await api.call('GET', '/api/auth/me', { token: second.token })).status).toBe(200);

      const fourth = await login(first.user.email);
      // No body at all, as the curl example sends it.
      const all = await api.call('POST', '/api/auth/logout-all', { token: fourth.token });
      expect(all.status).toBe(200);
      expect(all.body).toEqual({ success: true, revokedCount: 2, revokedSessionIds: expect.arrayContaining([second.session.id, fourth.session.id]) });
      for (const token of [first.token, second.token, third.token, fourth.token]) {
        expectRestError(await api.call('GET', '/api/auth/sessions', { token }), 401, 'UNAUTHENTICATED');
      }
    });

    it('POST /api/auth/logout-all is 400 for a non-boolean exceptCurrent or malformed JSON, and revokes nothing', async () => {
      const first = await register();
      for (const json of [{ exceptCurrent: 'yes' }, { exceptCurrent: 1 }, [true]]) {
        expectRestError(await api.call('POST', '/api/auth/logout-all', { token: first.token, json }), 400, 'BAD_USER_INPUT');
      }
      expectRestError(await api.call('POST', '/api/auth/logout-all', { token: first.token, body: '{"exceptCurrent": tru' }), 400, 'BAD_USER_INPUT');
      // Authentication comes first: an anonymous caller learns nothing about the body rules.
      expectRestError(await api.call('POST', '/api/auth/logout-all', { body: '{' }), 401, 'UNAUTHENTICATED');
      expect((await api.call('GET', '/api/auth/me', { token: first.token })).status).toBe(200);
    });

    it('DELETE /api/auth/sessions/:id revokes one own session; another user\'s id is 404 and that session stays', async () => {
      const first = await register();
      const second = await login(first.user.email);
      const stranger = await register();

      expect(await api.call('DELETE', `/api/auth/sessions/${second.session.id}`, { token: first.token })).toMatchObject({
        status: 200,
        body: { success: true },
      });
      expectRestError(await api.call('GET', '/api/auth/me', { token: second.token }), 401, 'UNAUTHENTICATED');
      // Already revoked: no longer an active session of the caller.
      expectRestError(await api.call('DELETE', `/api/auth/sessions/${second.session.id}`, { token: first.token }), 404, 'NOT_FOUND');

      expectRestError(await api.call('DELETE', `/api/auth/sessions/${stranger.session.id}`, { token: first.token }), 404, 'NOT_FOUND');
      expect((await api.call('GET', '/api/auth/me', { token: stranger.token })).status).toBe(200);
      const { sessions } = (await api.call('GET', '/api/auth/sessions', { token: stranger.token })).body as { sessions: RestSession[] };
      expect(sessions.map((s) => s.id)).toEqual([stranger.session.id]);

      expect(statusAndBody(await api.delete(`/api/auth/sessions/${randomUUID()}`, { token: first.token }))).toMatchInlineSnapshot(`
        {
          "body": {
            "error": {
              "code": "NOT_FOUND",
              "message": "No active session with this id",
            },
          },
          "status": 404,
        }
      `);
      for (const id of ['not-a-session-id', '%7B%22%24ne%22%3Anull%7D', '%E0%A4%A']) {
        expectRestError(await api.call('DELETE', `/api/auth/sessions/${id}`, { token: first.token }), 400, 'BAD_USER_INPUT');
      }
    });
  });

  describe('routing', () => {
    it('answers unknown /api paths with 404 NOT_FOUND JSON', async () => {
      for (const path of ['/api/auth/nope', '/api/auth', '/api/v2/auth/login', '/api/auth/sessions/a/b']) {
        expectRestError(await api.call('GET', path), 404, 'NOT_FOUND');
        expectRestError(await api.call('POST', path), 404, 'NOT_FOUND');
      }
    });

    it('answers a known path with the wrong method with 404 NOT_FOUND and Allow', async () => {
      const cases: Array<[string, string, string]> = [
        ['GET', '/api/auth/login', 'POST'],
        ['PUT', '/api/auth/register', 'POST'],
        ['GET', '/api/auth/logout-all', 'POST'],
        ['POST', '/api/auth/sessions', 'GET'],
        ['GET', `/api/auth/sessions/${randomUUID()}`, 'DELETE, PATCH'],
        ['GET', `/api/auth/sessions/${randomUUID()}/report`, 'POST'],
        ['DELETE', '/api/auth/me', 'GET'],
        ['POST', '/api/auth/events', 'GET'],
      ];
      for (const [method, path, allow] of cases) {
        const reply = await api.call(method, path);
        expect(reply.status).toBe(404);
        expect(reply.headers.get('allow')).toBe(allow);
        expect(reply.body).toEqual(restError('NOT_FOUND'));
      }
    });
  });
});

describe('REST errors when a dependency is down', () => {
  const server = useTestServer({ ownRedis: true });
  const api = restClient(server);

  it('is 503 SERVICE_UNAVAILABLE when a revocation cannot reach Redis, and the session stays usable', async () => {
    const reply = await api.call('POST', '/api/auth/register', { json: { name: 'A', email: uniqueEmail(), password: PASSWORD } });
    const { token } = reply.body as RestAuth;
    await server.redis.stop();
    try {
      const logout = await api.post('/api/auth/logout', { token });
      expect(statusAndBody(logout)).toMatchInlineSnapshot(`
        {
          "body": {
            "error": {
              "code": "SERVICE_UNAVAILABLE",
              "message": "A service this request needs is unavailable: retry later",
            },
          },
          "status": 503,
        }
      `);
      expect(statusAndBody(await api.post('/api/auth/logout-all', { token }))).toEqual(statusAndBody(logout));
      // No stream can be promised without the broker: a JSON error, not a stream.
      expect(statusAndBody(await api.get(`/api/auth/events?token=${token}`))).toEqual(statusAndBody(logout));
      // MongoDB still answers who the caller is.
      expect((await api.call('GET', '/api/auth/me', { token })).status).toBe(200);
    } finally {
      await server.redis.start();
    }
  });
});

describe('REST rate limits', () => {
  const server = useTestServer({ env: { RATE_LIMIT_PER_ACCOUNT_ADDRESS: '2', RATE_LIMIT_WINDOW: '10m' } });
  const api = restClient(server);

  it('is 429 RATE_LIMITED with Retry-After once an address has spent its failures on an account, even with the right password', async () => {
    const address = uniqueEmail('limited');
    expect((await api.call('POST', '/api/auth/register', { json: { name: 'L', email: address, password: PASSWORD } })).status).toBe(201);
    expectRestError(await api.call('POST', '/api/auth/login', { json: { email: address, password: 'wrong password' } }), 401, 'INVALID_CREDENTIALS');
    expectRestError(await api.call('POST', '/api/auth/login', { json: { email: address, password: 'wrong again' } }), 401, 'INVALID_CREDENTIALS');
    const refused = await api.call('POST', '/api/auth/login', { json: { email: address, password: PASSWORD } });
    expectRestError(refused, 429, 'RATE_LIMITED');
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
    expect(await response.json()).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "RATE_LIMITED",
          "message": "Too many attempts: try again later",
        },
      }
    `);
  });

  it('maps an unreachable dependency to 503 as the resolvers do', async () => {
    const error = Object.assign(new Error('getaddrinfo ECONNREFUSED'), { name: 'MongoServerSelectionError' });
    expect(errorResponse(error, log).status).toBe(503);
  });
});
