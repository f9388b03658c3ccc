import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { onEnd, pipe, subscribe } from 'wonka';
import { createApolloClient } from '../examples/apollo-client.js';
import { drainServer } from '../src/http/node-server.js';
import { createUrqlClient } from '../examples/urql.js';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { expectNoStreamLeft } from './support/events.js';
import { SessionCreatedDocument, SessionRevokedDocument } from './support/operations.js';
import { useTestServer } from './support/server.js';
import type { SessionCreatedSubscription, SessionRevokedSubscription } from './gql/graphql.js';

type Revoked = SessionRevokedSubscription['sessionRevoked'];
type Created = SessionCreatedSubscription['sessionCreated'];

/** Subscribes through a client's own API; resolves with every result's data once the subscription completes. */
type Subscribe = <T>(document: TypedDocumentNode<T, Record<string, never>>) => Promise<T[]>;

/** graphql-sse's protocol as a client without its library sends it: raw HTTP. */
interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads an event stream's events as they come (comments skipped). */
function eventsOf(response: Response): { events: SseEvent[]; until(count: number): Promise<SseEvent[]>; ended: Promise<void> } {
  const events: SseEvent[] = [];
  // Resolves when the server ends the response properly; a reset connection rejects it.
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (event) events.push({ event, data: data ? (JSON.parse(data) as unknown) : null });
      }
    }
  })();
  ended.catch(() => {});
  return {
    events,
    ended,
    async until(count) {
      await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
      return events.slice(0, count);
    },
  };
}

describe('graphql-sse single connection mode on /graphql/stream', () => {
  // Three places per session: a connection and two subscriptions on it.
  const server = useTestServer({ env: { STREAMS_PER_SESSION: '3' } });
  const streamUrl = (): string => `${server.url}/graphql/stream`;
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  const clients: Record<string, (getToken: () => string | null) => Subscribe> = {
    'Apollo Client 4 (graphql-sse link, singleConnection: true)': (getToken) => {
      const client = createApolloClient(server.graphqlUrl, getToken, streamUrl());
      return (query) =>
        new Promise((resolve, reject) => {
          const results: NonNullable<unknown>[] = [];
          client.subscribe({ query }).subscribe({
            next: (result) => (result.error ? reject(result.error) : result.data && results.push(result.data)),
            error: reject,
            complete: () => resolve(results as never),
          });
        });
    },
    '@urql/core (subscriptionExchange over graphql-sse, singleConnection: true)': (getToken) => {
      const client = createUrqlClient(server.graphqlUrl, getToken, streamUrl());
      return (query) =>
        new Promise((resolve, reject) => {
          const results: unknown[] = [];
          pipe(
            client.subscription(query, {}),
            onEnd(() => resolve(results as never)),
            subscribe((result) => {
              if (result.error) reject(result.error);
              // On completion urql repeats the last result (hasNext: false): once, not twice.
              else if (result.data && result.data !== results.at(-1)) results.push(result.data);
            }),
          );
        });
    },
  };

  for (const [name, create] of Object.entries(clients)) {
    it(`${name}: sessionCreated and sessionRevoked on one connection, both ending with the session`, async () => {
      const first = await registerUser(server.graphqlUrl);
      const listener = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
      const subscribeWith = create(() => listener.token);

      const created = subscribeWith(SessionCreatedDocument);
      const revoked = subscribeWith(SessionRevokedDocument);
      // The connection and its two subscriptions, each a stream with its place.
      await expect.poll(() => server.services.streams.running).toBe(3);

      const third = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD, deviceInfo: 'third device' });
      const response = await fetch(`${server.url}/api/auth/logout-all`, {
        method: 'POST',
        headers: { ...bearer(first.token), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(200);

      expect((await created).map((data: { sessionCreated: Created }) => [data.sessionCreated.id, data.sessionCreated.deviceInfo])).toEqual([
        [third.session.id, 'third device'],
      ]);
      const events = (await revoked).map((data: { sessionRevoked: Revoked }) => data.sessionRevoked);
      // Every session of the account, the listener's own last.
      expect(events.at(-1)).toMatchObject({ sessionId: listener.session.id, reason: 'LOGOUT_ALL', current: true });
      expect(events.slice(0, -1).map((e) => [e.sessionId, e.reason, e.current])).toEqual(
        expect.arrayContaining([first.session.id, third.session.id].map((id) => [id, 'LOGOUT_ALL', false])),
      );
      expect(events).toHaveLength(3);
      // The connection ended with its session: nothing of it is left.
      await expectNoStreamLeft(server);
    });
  }

  it('reserving needs the Bearer header (never a JWT in the URL), and each reservation takes a place until it lapses', async () => {
    const user = await registerUser(server.graphqlUrl);
    expect((await fetch(streamUrl(), { method: 'PUT' })).status).toBe(401);
    expect((await fetch(`${streamUrl()}?token=${user.token}`, { method: 'PUT' })).status).toBe(401);

    const reserve = (): Promise<Response> => fetch(streamUrl(), { method: 'PUT', headers: bearer(user.token) });
    const tokens: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const reserved = await reserve();
      expect(reserved.status).toBe(201);
      tokens.push(await reserved.text());
    }
    const refused = await reserve();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(JSON.stringify(await refused.json())).toContain('RATE_LIMITED');

    // Closing an opened connection gives its place back at once.
    const control = new AbortController();
    const opened = await fetch(streamUrl(), { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': tokens[0]! }, signal: control.signal });
    expect(opened.status).toBe(200);
    control.abort();
    await expect.poll(async () => (await reserve()).status).toBe(201);
    // None of the three left is ever opened: each lapses (RESERVATION_MS) and frees its place.
    expect(server.services.streams.running).toBe(3);
    await expect.poll(() => server.services.streams.running, { timeout: 20_000 }).toBe(0);
  }, 60_000);

  it('speaks the protocol to a client without graphql-sse: ?token= opens the stream, operations carry their own Bearer, DELETE stops one', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await registerUser(server.graphqlUrl);
    const token = await (await fetch(streamUrl(), { method: 'PUT', headers: bearer(user.token) })).text();
    expect((await fetch(`${streamUrl()}?token=unknown`, { headers: { accept: 'text/event-stream' } })).status).toBe(404);

    // As an EventSource would: no header, the stream token in the URL.
    const stream = await fetch(`${streamUrl()}?token=${token}`, { headers: { accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const again = await fetch(`${streamUrl()}?token=${token}`, { headers: { accept: 'text/event-stream' } });
    expect(again.status).toBe(409);
    const { events, until, ended } = eventsOf(stream);

    const post = (operationId: string, query: string, headers: Record<string, string>): Promise<Response> =>
      fetch(streamUrl(), {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        body: JSON.stringify({ query, extensions: { operationId } }),
      });
    const subscription = print(SessionRevokedDocument);
    expect((await post('me', '{ me { email } }', bearer(user.token))).status).toBe(202);
    expect((await post('anonymous', subscription, {})).status).toBe(202);
    expect((await post('someone-else', subscription, bearer(other.token))).status).toBe(202);
    expect((await post('revoked-1', subscription, bearer(user.token))).status).toBe(202);
    expect((await post('revoked-1', subscription, bearer(user.token))).status).toBe(409);
    expect((await post('revoked-2', subscription, bearer(user.token))).status).toBe(202);
    // The connection and two subscriptions fill STREAMS_PER_SESSION: a third is refused on the stream.
    expect((await post('revoked-3', subscription, bearer(user.token))).status).toBe(202);

    await until(8);
    const of = (id: string): SseEvent[] => events.filter((e) => (e.data as { id?: string } | null)?.id === id);
    expect(of('me')).toEqual([
      { event: 'next', data: { id: 'me', payload: { data: { me: { email: user.email } } } } },
      { event: 'complete', data: { id: 'me' } },
    ]);
    const codes = (id: string): unknown => of(id).map((e) => (e.data as { payload?: { errors?: Array<{ extensions: { code: string } }> } }).payload?.errors?.[0]?.extensions.code);
    expect(codes('anonymous')).toEqual(['UNAUTHENTICATED', undefined]);
    expect(codes('someone-else')).toEqual(['UNAUTHENTICATED', undefined]);
    expect(codes('revoked-3')).toEqual(['RATE_LIMITED', undefined]);
    expect(server.services.streams.running).toBe(3);

    // DELETE stops one: its place is free, nothing more is written for it.
    const stopped = await fetch(`${streamUrl()}?operationId=revoked-2`, { method: 'DELETE', headers: { 'x-graphql-event-stream-token': token } });
    expect(stopped.status).toBe(200);
    await expect.poll(() => server.services.streams.running).toBe(2);

    // The session revoked: the remaining subscription gets its event and completes, then the connection ends.
    const logout = await fetch(`${server.url}/api/auth/logout`, { method: 'POST', headers: bearer(user.token) });
    expect(logout.status).toBe(200);
    const last = await until(10);
    expect(last.slice(8)).toEqual([
      { event: 'next', data: { id: 'revoked-1', payload: { data: { sessionRevoked: expect.objectContaining({ reason: 'LOGOUT', current: true }) } } } },
      { event: 'complete', data: { id: 'revoked-1' } },
    ]);
    expect(of('revoked-2')).toEqual([]);
    // Then the connection itself ends.
    await ended;
    await expectNoStreamLeft(server);
  });
});

describe('a single connection on shutdown', () => {
  const server = useTestServer();

  it('ends each operation with its complete, then the connection, cleanly', async () => {
    const user = await registerUser(server.graphqlUrl);
    const headers = { authorization: `Bearer ${user.token}` };
    const url = `${server.url}/graphql/stream`;
    const token = await (await fetch(url, { method: 'PUT', headers })).text();
    const stream = await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } });
    const { until, ended } = eventsOf(stream);
    const posted = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: print(SessionRevokedDocument), extensions: { operationId: 'op' } }),
    });
    expect(posted.status).toBe(202);
    await expect.poll(() => server.services.streams.running).toBe(2);

    const drained = drainServer(server.http, server.services.streams, 10_000);
    expect(await until(1)).toEqual([{ event: 'complete', data: { id: 'op' } }]);
    await ended;
    await drained;
    expect(server.services.streams.running).toBe(0);
  });
});
