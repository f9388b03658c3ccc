import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCredentials } from './support/client.js';
import { startOwnFerretDb, type OwnFerretDb } from './support/ferretdb.js';
import { startServer, type TestServer } from './support/server.js';

/**
 * MongoDB that stops answering (a paused process: its sockets stay open and
 * nothing comes back) or goes away: every request that needs it is answered
 * SERVICE_UNAVAILABLE within MONGODB_TIMEOUT's bound instead of hanging, and
 * the instances serve again once it answers. Each fetch carries its own
 * deadline, so a hang fails here, by name, instead of at the test's timeout.
 */

/** Far above what MONGODB_TIMEOUT=1s allows (an operation and its one retry), far below a hang. */
const BOUND_MS = 10_000;

interface Answer {
  status: number;
  /** The contract's code: REST `error.code`, or the first GraphQL error's `extensions.code`; 'OK' when there is none. */
  code: string;
  body: string;
}

async function ask(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(BOUND_MS) });
  // An event stream that started is read up to its first event: what its client would see.
  const body = response.headers.get('content-type')?.startsWith('text/event-stream') ? await firstEvent(response) : await response.text();
  const code = /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? 'OK';
  return { status: response.status, code, body };
}

async function firstEvent(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
      if (/\nevent: |^event: |\ndata: /.test(text)) return text;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

const json = (body: unknown, token?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

function clients(server: TestServer) {
  const gql = (query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer> =>
    ask(server.graphqlUrl, json({ query, variables }, token));
  return {
    register: (fields: { email: string; password: string }) => ask(`${server.url}/api/auth/register`, json({ name: 'Paused', ...fields })),
    restLogin: (fields: { email: string; password: string }) => ask(`${server.url}/api/auth/login`, json(fields)),
    gqlLogin: (fields: { email: string; password: string }) =>
      gql('mutation($input: LoginInput!) { login(input: $input) { token } }', { input: fields }),
    restTimeline: (token: string) => ask(`${server.url}/api/auth/security-events`, bearer(token)),
    gqlTimeline: (token: string) => gql('{ securityEvents { events { type } } }', {}, token),
    restEvents: (token: string) =>
      ask(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }),
    gqlEvents: (token: string) =>
      ask(`${server.graphqlUrl}?query=${encodeURIComponent('subscription { sessionRevoked { sessionId } }')}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      }),
    restLogout: (token: string) => ask(`${server.url}/api/auth/logout`, { method: 'POST', ...bearer(token) }),
  };
}

describe('MongoDB that stops answering', () => {
  let ferret: OwnFerretDb;
  let one: TestServer;
  let two: TestServer;
  beforeAll(async () => {
    ferret = await startOwnFerretDb();
    const env = { MONGODB_URI: ferret.uri, MONGODB_TIMEOUT: '1s' };
    one = await startServer({ env: { ...env, SERVER_ID: 'one' } });
    two = await startServer({ env: { ...env, SERVER_ID: 'two' } });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await ferret?.destroy();
  });

  it('answers SERVICE_UNAVAILABLE within the bound to sign-ins, streams and the timeline, on both APIs, and serves again once resumed', async () => {
    const api = clients(one);
    const owner = newCredentials('paused');
    const registered = await api.register(owner);
    expect(registered.status).toBe(201);
    const token = (JSON.parse(registered.body) as { token: string }).token;
    const phone = JSON.parse((await api.restLogin(owner)).body) as { token: string };

    ferret.pause();
    try {
      // Sign-in reads the account from MongoDB.
      expect(await api.restLogin(owner)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(await api.gqlLogin(owner)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      // A stream starts with MongoDB's record of what was revoked since it authenticated (the token
      // itself is checked in Redis): refused, never a stream that says nothing.
      expect(await api.restEvents(token)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(await api.gqlEvents(token)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      // The timeline is MongoDB's.
      expect(await api.restTimeline(token)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(await api.gqlTimeline(token)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      // A sign-out answers within the bound too (what it answers is the revocation path's to say).
      await expect(api.restLogout(phone.token)).resolves.toMatchObject({ status: expect.any(Number) });
    } finally {
      ferret.resume();
    }

    // Both instances serve again: sign-in, timeline, streams.
    for (const server of [one, two]) {
      const again = clients(server);
      const signedIn = await again.restLogin(owner);
      expect(signedIn.status).toBe(200);
      const fresh = (JSON.parse(signedIn.body) as { token: string }).token;
      expect(await again.restTimeline(fresh)).toMatchObject({ status: 200 });
      expect(await again.gqlTimeline(fresh)).toMatchObject({ status: 200, code: 'OK' });
      expect((await again.restEvents(fresh)).body).toContain('event: connected');
    }
  });

  it('reconnects after the database is killed and started again', async () => {
    const api = clients(two);
    const owner = newCredentials('killed');
    expect((await api.register(owner)).status).toBe(201);

    await ferret.stop();
    expect(await api.restLogin(owner)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(await clients(one).gqlLogin(owner)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    await ferret.start();
    for (const server of [one, two]) {
      await expect.poll(async () => (await clients(server).restLogin(owner)).status, { timeout: 20_000, interval: 200 }).toBe(200);
    }
  });
});
