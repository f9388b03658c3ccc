import { getIntrospectionQuery, print } from 'graphql';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { badTokens } from './support/bad-tokens.js';
import { gql, loginUser, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { readToEnd, take, waitForSubscribers } from './support/events.js';
import { LogoutAllDocument, LogoutDocument, MeDocument, RevokeSessionDocument, SessionRevokedDocument, SessionsDocument } from './support/operations.js';
import { EventQueue } from './support/event-queue.js';
import { useTestServer } from './support/server.js';

/** Issue 8: protection that stops attackers, not owners (items 2, 4, 5 and 6; the rest is in hostile, rate-limit, logs and timeouts tests). */

const me = (url: string, token: string) => fetch(`${url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });

describe('a token in the URL opens a stream, and nothing else', () => {
  const server = useTestServer();

  it('does not authenticate a mutation or query on /graphql, as SSE or JSON', async () => {
    const user = await registerUser(server.graphqlUrl);
    const token = encodeURIComponent(user.token);
    // The attack of the issue: a POST with Accept: text/event-stream and the token in the URL.
    const logout = await fetch(`${server.graphqlUrl}?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(await logout.text()).toContain('"code":"UNAUTHENTICATED"');
    for (const key of ['token', '%74oken', 'tok%65n']) {
      const json = await fetch(`${server.graphqlUrl}?${key}=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { logoutAll { revokedCount } }' }),
      });
      expect(((await json.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code, key).toBe('UNAUTHENTICATED');
      const query = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ me { id } }')}&${key}=${token}`);
      expect(((await query.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code, key).toBe('UNAUTHENTICATED');
    }
    // The session was never touched.
    expect((await me(server.url, user.token)).status).toBe(200);
  });

  it('does not authenticate a REST call other than GET /api/auth/events', async () => {
    const user = await registerUser(server.graphqlUrl);
    const token = encodeURIComponent(user.token);
    for (const [method, path] of [['GET', '/api/auth/me'], ['GET', '/api/auth/sessions'], ['POST', '/api/auth/logout'], ['POST', '/api/auth/logout-all']]) {
      const response = await fetch(`${server.url}${path}?token=${token}`, { method });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    expect((await me(server.url, user.token)).status).toBe(200);
  });

  it('still opens the subscription from a browser EventSource (GET, token in the URL, no headers)', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const query = encodeURIComponent(print(SessionRevokedDocument));
    const source = new EventSource(`${server.graphqlUrl}?query=${query}&token=${encodeURIComponent(user.token)}`);
    const events = new EventQueue<unknown>();
    source.addEventListener('next', (event: MessageEvent) => events.push(JSON.parse(String(event.data))));
    try {
      await waitForSubscribers(server.services, user.user.id, 1);
      expect((await gql(server.graphqlUrl, LogoutDocument, {}, { token: other.token })).errors).toBeUndefined();
      expect(await take(events, 1)).toEqual([
        { data: { sessionRevoked: { sessionId: other.session.id, reason: 'LOGOUT', revokedAt: expect.any(String), current: false } } },
      ]);
    } finally {
      source.close();
    }
  });
});

describe('a deleted account is revoked everywhere', () => {
  const server = useTestServer({ ownRedis: true });

  it('refuses its tokens on every route and stream of both APIs, even where the session cache knew them', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    expect((await me(server.url, user.token)).status).toBe(200);
    // Deleted behind the server's back, straight in MongoDB; the cached session
    // states are dropped, so the server must ask MongoDB about the account.
    await server.services.connection.collection('users').deleteOne({ email: user.email });
    const redis = new Redis(server.redis.url);
    await redis.flushall();
    redis.disconnect();

    const auth = { authorization: `Bearer ${user.token}` };
    for (const [method, path] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/auth/sessions'],
      ['DELETE', `/api/auth/sessions/${other.session.id}`],
      ['POST', '/api/auth/logout-all'],
      ['POST', '/api/auth/logout'],
      ['GET', '/api/auth/events'],
    ]) {
      const response = await fetch(`${server.url}${path}`, { method, headers: { ...auth, accept: 'application/json, text/event-stream' } });
      expect({ route: `${method} ${path}`, status: response.status, body: await response.json() }).toEqual({
        route: `${method} ${path}`,
        status: 401,
        body: { error: { code: 'UNAUTHENTICATED', message: expect.any(String) } },
      });
    }
    const events = await fetch(`${server.url}/api/auth/events?token=${encodeURIComponent(user.token)}`, { headers: { accept: 'text/event-stream' } });
    expect(events.status).toBe(401);

    const codes = async (result: Promise<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined }>) =>
      (await result).errors?.map((e) => e.extensions?.code);
    expect(await codes(gql(server.graphqlUrl, MeDocument, {}, { token: user.token }))).toEqual(['UNAUTHENTICATED']);
    expect(await codes(gql(server.graphqlUrl, SessionsDocument, {}, { token: user.token }))).toEqual(['UNAUTHENTICATED']);
    expect(await codes(gql(server.graphqlUrl, RevokeSessionDocument, { id: other.session.id }, { token: user.token }))).toEqual(['UNAUTHENTICATED']);
    expect(await codes(gql(server.graphqlUrl, LogoutAllDocument, {}, { token: user.token }))).toEqual(['UNAUTHENTICATED']);
    expect(await codes(gql(server.graphqlUrl, LogoutDocument, {}, { token: other.token }))).toEqual(['UNAUTHENTICATED']);
    const stream = await readToEnd(revocations(sseClient(server.graphqlUrl, user.token)));
    expect(stream.map((r) => r.errors?.map((e) => e.extensions?.code))).toEqual([['UNAUTHENTICATED']]);
  });
});

describe('registration is all or nothing', () => {
  const server = useTestServer();

  it('leaves no account behind when the first session cannot be stored, so the retry registers', async () => {
    const input = { name: 'Retry', email: `retry.${Date.now()}@example.com`, password: PASSWORD };
    const register = () =>
      fetch(`${server.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    // The session write fails once, as a full disk or a lost primary would make it.
    const failure = vi.spyOn(server.services.models.Session, 'create').mockRejectedValueOnce(new Error('disk full'));
    try {
      expect((await register()).status).toBe(500);
    } finally {
      failure.mockRestore();
    }
    expect(await server.services.connection.collection('users').countDocuments({ email: input.email })).toBe(0);
    expect((await register()).status).toBe(201);
  });
});

describe('introspection and GraphiQL', () => {
  const development = useTestServer();
  const production = useTestServer({ env: { NODE_ENV: 'production' } });
  const switchedOn = useTestServer({ env: { NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true' } });

  const introspect = async (url: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery() }),
    });
    const body = (await response.json()) as { data?: { __schema?: { queryType: { name: string } } }; errors?: Array<{ extensions: { code: string } }> };
    return { status: response.status, queryType: body.data?.__schema?.queryType.name, code: body.errors?.[0]?.extensions.code };
  };
  const graphiql = async (url: string) => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    await response.arrayBuffer();
    return { status: response.status, html: (response.headers.get('content-type') ?? '').startsWith('text/html') };
  };

  it("answers graphql-js' standard introspection query (depth 21) in development", async () => {
    expect(await introspect(development.graphqlUrl)).toEqual({ status: 200, queryType: 'Query', code: undefined });
    expect(await graphiql(development.graphqlUrl)).toEqual({ status: 200, html: true });
  });

  it('is off in production by default: introspection is BAD_USER_INPUT, no GraphiQL page', async () => {
    expect(await introspect(production.graphqlUrl)).toEqual({ status: 400, queryType: undefined, code: 'BAD_USER_INPUT' });
    expect((await graphiql(production.graphqlUrl)).html).toBe(false);
    // __typename is not introspection of the schema: it still works.
    const typename = await fetch(`${production.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`);
    expect(await typename.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('is on in production with GRAPHIQL=true and INTROSPECTION=true', async () => {
    expect(await introspect(switchedOn.graphqlUrl)).toEqual({ status: 200, queryType: 'Query', code: undefined });
    expect(await graphiql(switchedOn.graphqlUrl)).toEqual({ status: 200, html: true });
  });
});

describe('bad tokens in the URL', () => {
  const server = useTestServer();

  it('are UNAUTHENTICATED for the subscription, as in the header', async () => {
    const user = await registerUser(server.graphqlUrl);
    const query = encodeURIComponent(print(SessionRevokedDocument));
    for (const [name, token] of badTokens(user)) {
      const response = await fetch(`${server.graphqlUrl}?query=${query}&token=${encodeURIComponent(token)}`, { headers: { accept: 'text/event-stream' } });
      expect(await response.text(), name).toContain('"code":"UNAUTHENTICATED"');
    }
  });
});
