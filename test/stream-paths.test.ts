import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { restClient, type RestAuth, type RestClient } from './support/rest.js';
import { useTestServer } from './support/server.js';
import { eventData, isEvent, SseParser, type SseItem } from './support/sse.js';
import { EventQueue } from './support/event-queue.js';

/**
 * Event streams are written to the socket directly (src/streams/sse.ts)
 * whichever way they came in (src/server.ts): the REST fast path, or the app's
 * adapter (a REST GET that declares a body; GraphQL over SSE with a body of
 * declared length, read ahead, a chunked body, read by the adapter, or a GET).
 * Each must give the same head and the same events, end at the viewer's own
 * revocation, and leave nothing behind.
 */

interface RawStream {
  status: number;
  /** Header names and values in the order sent, minus the ones that differ per response. */
  headers: string[];
  until(predicate: (item: SseItem) => boolean): Promise<SseItem>;
  /** Items until the server ends the response. */
  rest(): Promise<SseItem[]>;
  close(): void;
}

function openRaw(base: string, method: string, path: string, headers: Record<string, string>, body?: string, chunked = false): Promise<RawStream> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers: { accept: 'text/event-stream', ...headers } }, (res: IncomingMessage) => {
      const parser = new SseParser();
      const items = new EventQueue<SseItem>();
      res.setEncoding('utf8');
      res.on('data', (text: string) => parser.feed(text).forEach((item) => items.push(item)));
      res.on('end', () => items.close());
      res.on('error', () => items.close());
      const kept: string[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i]!.toLowerCase();
        if (name !== 'date' && name !== 'x-request-id') kept.push(name, res.rawHeaders[i + 1]!);
      }
      resolve({
        status: res.statusCode ?? 0,
        headers: kept,
        async until(predicate) {
          for (let next = await items.next(); !next.done; next = await items.next()) if (predicate(next.value)) return next.value;
          throw new Error('the stream ended first');
        },
        async rest() {
          const seen: SseItem[] = [];
          for (let next = await items.next(); !next.done; next = await items.next()) seen.push(next.value);
          return seen;
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    if (chunked) {
      // No Content-Length: Node sends the body chunked, in two pieces.
      const half = Math.floor((body ?? '').length / 2);
      req.write(body!.slice(0, half));
      setImmediate(() => req.end(body!.slice(half)));
    } else {
      req.end(body);
    }
  });
}

const SUBSCRIPTION = 'subscription { sessionRevoked { sessionId reason current } }';
const isNext = (item: SseItem): boolean => item.kind === 'event' && item.event === 'next';
const nextData = (item: SseItem): { sessionId: string; reason: string; current: boolean } =>
  (JSON.parse(item.kind === 'event' ? item.data : '{}') as { data: { sessionRevoked: { sessionId: string; reason: string; current: boolean } } }).data
    .sessionRevoked;

async function devices(api: RestClient, count: number): Promise<RestAuth[]> {
  const first = await api.register({ name: 'Paths' });
  const all: RestAuth[] = [first];
  for (let i = 1; i < count; i += 1) all.push(await api.login({ email: first.email }));
  return all;
}

describe('event streams written to the socket directly', () => {
  const server = useTestServer();
  const api = restClient(server);

  it('REST: the fast path and the fetch pipeline give the same head and events, and end at the own revocation', async () => {
    const [viewer, other] = await devices(api, 2);
    const auth = { authorization: `Bearer ${viewer!.token}` };
    const fast = await openRaw(server.url, 'GET', '/api/auth/events', auth);
    // Declaring an (empty) body sends the request through the fetch pipeline.
    const long = await openRaw(server.url, 'GET', '/api/auth/events', { ...auth, 'content-length': '0' });
    expect(fast.status).toBe(200);
    expect(fast.headers).toEqual(long.headers);
    expect(fast.headers).toContain('text/event-stream; charset=utf-8');
    for (const stream of [fast, long]) expect(eventData(await stream.until(isEvent('connected')))).toMatchObject({ sessionId: viewer!.session.id });

    expect((await api.post('/api/auth/logout', { token: other!.token })).status).toBe(200);
    expect((await api.post('/api/auth/logout', { token: viewer!.token })).status).toBe(200);
    for (const stream of [fast, long]) {
      const revoked = (await stream.rest()).filter(isEvent('session-revoked')).map(eventData);
      expect(revoked).toEqual([
        expect.objectContaining({ sessionId: other!.session.id, current: false }),
        expect.objectContaining({ sessionId: viewer!.session.id, current: true }),
      ]);
    }
  });

  it('GraphQL: a body of declared length, a chunked body and a GET all stream, and end with `complete`', async () => {
    const [viewer, other] = await devices(api, 2);
    const headers = { authorization: `Bearer ${viewer!.token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ query: SUBSCRIPTION });
    const streams = [
      await openRaw(server.url, 'POST', '/graphql', { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body),
      await openRaw(server.url, 'POST', '/graphql', headers, body, true),
      await openRaw(server.url, 'GET', `/graphql?query=${encodeURIComponent(SUBSCRIPTION)}`, { authorization: headers.authorization }),
    ];
    for (const stream of streams) {
      expect(stream.status).toBe(200);
      expect(stream.headers).toEqual(streams[0]!.headers);
      // The first comment comes at once, before any event.
      await stream.until((item) => item.kind === 'comment');
    }
    // Every stream listens once it has been counted on the server.
    await expect.poll(() => server.services.streams.running).toBe(3);

    expect((await api.post('/api/auth/logout', { token: other!.token })).status).toBe(200);
    for (const stream of streams) expect(nextData(await stream.until(isNext))).toMatchObject({ sessionId: other!.session.id, current: false });
    expect((await api.post('/api/auth/logout', { token: viewer!.token })).status).toBe(200);
    for (const stream of streams) {
      const rest = await stream.rest();
      expect(rest.filter(isNext).map(nextData)).toEqual([expect.objectContaining({ sessionId: viewer!.session.id, current: true })]);
      expect(rest.at(-1)).toMatchObject({ kind: 'event', event: 'complete' });
    }
    // Ended streams give back their places and their subscriptions.
    await expect.poll(() => server.services.streams.running).toBe(0);
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(0);
  });

  it('a client that leaves in the middle of a subscription\'s body leaves nothing, and the server goes on', async () => {
    const [viewer] = await devices(api, 1);
    const { hostname, port } = new URL(server.url);
    const body = JSON.stringify({ query: SUBSCRIPTION });
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: ${hostname}\r\naccept: text/event-stream\r\ncontent-type: application/json\r\n` +
        `authorization: Bearer ${viewer!.token}\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    socket.destroy();
    // The next subscription of the same session is served, and counted alone.
    const stream = await openRaw(server.url, 'POST', '/graphql', { authorization: `Bearer ${viewer!.token}`, 'content-type': 'application/json' }, body);
    await stream.until((item) => item.kind === 'comment');
    await expect.poll(() => server.services.streams.running).toBe(1);
    stream.close();
    await expect.poll(() => server.services.streams.running).toBe(0);
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(0);
  });

  it('a client that leaves ends its stream on the server, whichever way it came', async () => {
    const [viewer] = await devices(api, 1);
    const auth = { authorization: `Bearer ${viewer!.token}` };
    const body = JSON.stringify({ query: SUBSCRIPTION });
    const streams = [
      await openRaw(server.url, 'GET', '/api/auth/events', auth),
      await openRaw(server.url, 'GET', '/api/auth/events', { ...auth, 'content-length': '0' }),
      await openRaw(server.url, 'POST', '/graphql', { ...auth, 'content-type': 'application/json', 'content-length': String(body.length) }, body),
      await openRaw(server.url, 'POST', '/graphql', { ...auth, 'content-type': 'application/json' }, body, true),
    ];
    for (const stream of streams) await stream.until((item) => item.kind === 'comment' || isEvent('connected')(item));
    await expect.poll(() => server.services.streams.running).toBe(4);
    for (const stream of streams) stream.close();
    await expect.poll(() => server.services.streams.running).toBe(0);
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(0);
  });
});
