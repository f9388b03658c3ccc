import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../src/http/body-limit.js';
import { newCredentials, PASSWORD, registerUser } from './support/client.js';
import { waitForSubscribers } from './support/events.js';
import { SessionRevokedDocument } from './support/operations.js';
import { expectRestError, restClient, statusAndBody, type RestSession } from './support/rest.js';
import { type ServerFixture, useTestServer } from './support/server.js';
import { holdSubscription } from './support/pubsub.js';
import { nextClientGone, openEventStream, type RawEventStream } from './support/sse.js';


/** A body sent with `Transfer-Encoding: chunked`: no Content-Length for the server to trust. */
function chunked(text: string, chunkSize = 8192): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** The sessionRevoked subscription over GraphQL SSE, read raw. */
function openGraphQLStream(graphqlUrl: string, token: string): Promise<RawEventStream> {
  const url = `${graphqlUrl}?query=${encodeURIComponent(print(SessionRevokedDocument))}`;
  return openEventStream(url, { authorization: `Bearer ${token}` });
}

/** A register body of exactly `size` bytes whose name is too long: a 400 if read, a 413 if refused unread. */
function registerBodyOfSize(size: number): string {
  const skeleton = JSON.stringify({ name: '', email: 'size@example.com', password: PASSWORD });
  return JSON.stringify({ name: 'n'.repeat(size - skeleton.length), email: 'size@example.com', password: PASSWORD });
}

describe('HTTP hygiene', () => {
  const server = useTestServer();
  const strict = useTestServer({ env: { CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }, shareWith: server });
  const proxied = useTestServer({ env: { TRUST_PROXY: 'true' }, shareWith: server });
  const api = restClient(server);

  describe('request body limit', () => {
    it('refuses REST and GraphQL bodies over 100 kB with 413 PAYLOAD_TOO_LARGE, by Content-Length or counted', async () => {
      const big = registerBodyOfSize(MAX_BODY_BYTES + 1);
      for (const body of [big, chunked(big)]) {
        expect(statusAndBody(await api.post('/api/auth/register', { body }))).toMatchInlineSnapshot(`
          {
            "body": {
              "error": {
                "code": "PAYLOAD_TOO_LARGE",
                "message": "Request body is too large",
              },
            },
            "status": 413,
          }
        `);
      }
      const query = JSON.stringify({ query: `{ me { id } } ${'#'.repeat(MAX_BODY_BYTES)}` });
      for (const body of [query, chunked(query)]) {
        expect(statusAndBody(await api.post('/graphql', { body }))).toMatchInlineSnapshot(`
          {
            "body": {
              "errors": [
                {
                  "extensions": {
                    "code": "PAYLOAD_TOO_LARGE",
                  },
                  "message": "Request body is too large",
                },
              ],
            },
            "status": 413,
          }
        `);
      }
    });

    it('reads a body at the limit and lets validation answer it', async () => {
      for (const body of [registerBodyOfSize(MAX_BODY_BYTES), chunked(registerBodyOfSize(MAX_BODY_BYTES))]) {
        expectRestError(await api.post('/api/auth/register', { body }), 400, 'BAD_USER_INPUT');
      }
    });

    it('a GraphQL subscription still ends when its client disconnects (the re-read request keeps its signal)', async () => {
      const user = await registerUser(server.graphqlUrl);
      const stream = await openGraphQLStream(server.graphqlUrl, user.token);
      // The first bytes (Yoga's opening ping) mean the stream is being sent.
      await stream.until((item) => item.kind === 'comment');
      stream.close();
      await waitForSubscribers(server.services, user.user.id, 0);
    });

    it('a client that leaves while its GraphQL subscription is being set up leaves no subscription behind', async () => {
      const user = await registerUser(server.graphqlUrl);
      const gone = nextClientGone('/graphql');
      const restore = holdSubscription(server.services, () => gone, 'after-subscribe');
      try {
        const controller = new AbortController();
        const request = fetch(server.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ query: print(SessionRevokedDocument) }),
          signal: controller.signal,
        }).catch(() => null);
        await waitForSubscribers(server.services, user.user.id, 1);
        controller.abort();
        await request;
        await gone;
        await waitForSubscribers(server.services, user.user.id, 0);
      } finally {
        restore();
      }
    });
  });

  describe('CORS', () => {
    it('allows any origin by default in development, for REST, GraphQL and the event stream', async () => {
      const origin = 'https://anywhere.example';
      const preflight = await fetch(`${server.url}/api/auth/logout-all`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');

      const user = await registerUser(server.graphqlUrl);
      for (const url of [`${server.url}/api/auth/me`, `${server.graphqlUrl}?query=${encodeURIComponent('{ me { id } }')}`]) {
        const response = await fetch(url, { headers: { origin, authorization: `Bearer ${user.token}` } });
        expect(response.status).toBe(200);
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
      }
      const controller = new AbortController();
      const events = await fetch(`${server.url}/api/auth/events?token=${user.token}`, { headers: { origin }, signal: controller.signal });
      expect(events.headers.get('access-control-allow-origin')).toBe('*');
      controller.abort();
      await waitForSubscribers(server.services, user.user.id, 0);
    });

    it('with CORS_ORIGINS, echoes a listed origin and gives nothing to another, on REST and GraphQL alike', async () => {
      for (const path of ['/api/auth/login', '/graphql']) {
        const allowed = await fetch(`${strict.url}${path}`, {
          method: 'OPTIONS',
          headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
        });
        expect(allowed.status).toBe(204);
        expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
        expect(allowed.headers.get('vary')).toContain('Origin');

        const refused = await fetch(`${strict.url}${path}`, {
          method: 'OPTIONS',
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
        });
        expect(refused.headers.get('access-control-allow-origin')).toBeNull();
        expect(refused.headers.get('access-control-allow-methods')).toBeNull();
      }
      const listed = await restClient(strict).post('/api/auth/login', { json: newCredentials(), headers: { origin: 'https://app.example.com' } });
      expect(listed.status).toBe(401);
      expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      // Browsers may read these from a cross-origin answer.
      expect(listed.headers.get('access-control-expose-headers')).toContain('retry-after');
      const other = await restClient(strict).post('/graphql', { json: { query: '{ me { id } }' }, headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('vary')).toContain('Origin');
    });
  });

  describe('client address and device', () => {
    const registerVia = async (instance: ServerFixture, headers: Record<string, string>, extra: Record<string, string> = {}): Promise<RestSession> =>
      (await restClient(instance).register({ name: 'Ip', ...extra }, { headers })).session;

    it('records the socket address and ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
      const forwarded = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' };
      expect((await registerVia(server, forwarded)).ipAddress).toBe('127.0.0.1');
      // One proxy (TRUST_PROXY=true): the entry it appended, the right-most.
      expect((await registerVia(proxied, forwarded)).ipAddress).toBe('10.0.0.1');
      expect((await registerVia(proxied, {})).ipAddress).toBe('127.0.0.1');
    });

    it('derives deviceInfo from the User-Agent when the client names none', async () => {
      const safari =
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
      expect(await registerVia(server, { 'user-agent': safari })).toMatchObject({ deviceInfo: 'Safari 17 on iOS', userAgent: safari });
      expect((await registerVia(server, { 'user-agent': 'curl/8.5.0' })).deviceInfo).toBe('curl 8.5.0');
      expect((await registerVia(server, { 'user-agent': safari }, { deviceInfo: 'Work phone' })).deviceInfo).toBe('Work phone');
    });
  });
});
