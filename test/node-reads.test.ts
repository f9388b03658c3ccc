import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { registerUser } from './support/client.js';
import { type ServerFixture, useTestServer } from './support/server.js';

interface Raw {
  status: number;
  statusMessage: string;
  /** Names and values in the order sent, minus the ones that differ per response. */
  headers: string[];
  body: string;
}

/**
 * A GET over node:http. With `longWay`, it declares an empty body
 * (`Content-Length: 0`), which sends it through the fetch pipeline instead of
 * the node fast path (src/http/node-reads.ts): the two answers must be the same.
 */
function get(base: string, path: string, headers: Record<string, string>, longWay: boolean): Promise<Raw> {
  return send(base, 'GET', path, longWay ? { ...headers, 'content-length': '0' } : headers);
}

function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    // `path` as given: a URL would drop the empty query of `/graphql?`.
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const raw = res.rawHeaders;
        const kept: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i]!.toLowerCase();
          if (name === 'date') continue;
          const value = raw[i + 1]!;
          kept.push(name, name === 'x-request-id' && value !== headers['x-request-id'] ? '(generated)' : value);
        }
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: kept, body });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function expectSameBothWays(server: ServerFixture, path: string, headers: Record<string, string>): Promise<Raw> {
  const fast = await get(server.url, path, headers, false);
  const long = await get(server.url, path, headers, true);
  expect(fast).toEqual(long);
  return fast;
}

describe('the node fast path for plain REST reads', () => {
  const server = useTestServer();
  const strict = useTestServer({ env: { CORS_ORIGINS: 'https://app.example.com', TRUST_PROXY: 'true' }, shareWith: server });

  it('answers GET /api/auth/me, /sessions and /security-events as the fetch pipeline does', async () => {
    const { token } = await registerUser(server.graphqlUrl);
    const auth = { authorization: `Bearer ${token}` };
    const me = await expectSameBothWays(server, '/api/auth/me', auth);
    expect(me.status).toBe(200);
    expect(me.headers).toContain('content-security-policy');
    await expectSameBothWays(server, '/api/auth/sessions', auth);
    await expectSameBothWays(server, '/api/auth/security-events?limit=5', auth);
    await expectSameBothWays(server, '/api/auth/security-events?limit=0', auth);
    await expectSameBothWays(server, '/api/auth/me?token=x&other=1', { ...auth, 'x-request-id': 'abc-123', 'user-agent': 'reads/1' });
  });

  it('answers errors the same way: no token, a bad token, a token only in the URL, a malformed header', async () => {
    const { token } = await registerUser(server.graphqlUrl);
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer junk' }, { authorization: `Basic ${token}` }];
    for (const headers of attempts) {
      const answer = await expectSameBothWays(server, '/api/auth/me', headers);
      expect(answer.status).toBe(401);
    }
    expect((await expectSameBothWays(server, `/api/auth/sessions?token=${token}`, {})).status).toBe(401);
  });

  it('adds the same CORS, HSTS and request-id headers', async () => {
    const { token } = await registerUser(strict.graphqlUrl);
    const auth = { authorization: `Bearer ${token}` };
    const extras: Array<Record<string, string>> = [
      { origin: 'https://app.example.com' },
      { origin: 'https://evil.example' },
      { 'x-forwarded-proto': 'https' },
      { 'x-request-id': 'not a valid id!' },
    ];
    for (const extra of extras) {
      await expectSameBothWays(strict, '/api/auth/me', { ...auth, ...extra });
    }
    await expectSameBothWays(server, '/api/auth/me', { ...auth, origin: 'https://any.example' });
  });

  it('routes unknown and normalised paths (`/./`, a trailing slash) as the fetch pipeline does', async () => {
    for (const path of ['/api/auth/nope', '/api/auth/login', '/api/auth/./me', '/api/auth/me/']) {
      await expectSameBothWays(server, path, {});
    }
  });
});

describe('GraphQL POSTs handed to Yoga directly', () => {
  const server = useTestServer();
  const strict = useTestServer({ env: { CORS_ORIGINS: 'https://app.example.com', TRUST_PROXY: 'true' }, shareWith: server });

  /** `POST /graphql` goes to Yoga straight away; `POST /graphql?` (the same URL to the router) through the app's adapter. */
  async function expectSameBothWays(on: ServerFixture, headers: Record<string, string>, body: string): Promise<Raw> {
    const direct = await send(on.url, 'POST', '/graphql', headers, body);
    const general = await send(on.url, 'POST', '/graphql?', headers, body);
    expect(direct).toEqual(general);
    return direct;
  }

  it('answers queries, their errors and refused requests as the app\'s adapter does', async () => {
    const { token } = await registerUser(server.graphqlUrl);
    const json = { 'content-type': 'application/json' };
    const auth = { ...json, authorization: `Bearer ${token}` };
    const me = await expectSameBothWays(server, auth, JSON.stringify({ query: '{ me { id email name } }' }));
    expect(me.status).toBe(200);
    await expectSameBothWays(server, json, JSON.stringify({ query: '{ me { id } }' }));
    await expectSameBothWays(server, { ...auth, accept: 'application/graphql-response+json' }, JSON.stringify({ query: '{ me { id } }' }));
    await expectSameBothWays(server, auth, JSON.stringify({ query: '{ me { nope } }' }));
    await expectSameBothWays(server, auth, JSON.stringify({ query: '{ me { id ' }));
    await expectSameBothWays(server, auth, '{"query": ');
    await expectSameBothWays(server, auth, JSON.stringify({ query: '{ sessions { id current } }', extra: 1 }));
    await expectSameBothWays(server, { ...auth, 'content-type': 'text/plain' }, JSON.stringify({ query: '{ me { id } }' }));
    await expectSameBothWays(server, { ...auth, 'x-request-id': 'gql-1' }, JSON.stringify({ query: 'mutation { logout { success } }' }).replace('logout', 'nope'));
    const big = await expectSameBothWays(server, auth, JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(200 * 1024)}` }));
    expect(big.status).toBe(413);
  });

  it('adds the same CORS and HSTS headers', async () => {
    const { token } = await registerUser(strict.graphqlUrl);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const body = JSON.stringify({ query: '{ me { id } }' });
    const extras: Array<Record<string, string>> = [{ origin: 'https://app.example.com' }, { origin: 'https://evil.example' }, { 'x-forwarded-proto': 'https' }];
    for (const extra of extras) await expectSameBothWays(strict, { ...headers, ...extra }, body);
  });
});
