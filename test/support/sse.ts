import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { print } from 'graphql';
import { EventSource, type ErrorEvent } from 'eventsource';
import { expect } from 'vitest';
import { EventQueue } from './event-queue.js';
import { take } from './events.js';
import { SessionRevokedDocument } from './operations.js';
import { urlOf, type ServerAddress } from './rest.js';

/** One thing read off a text/event-stream: an event, or a comment line such as `: ping`. */
export type SseItem =
  | { kind: 'event'; id: string | undefined; event: string; data: string }
  | { kind: 'comment'; text: string };

/**
 * Incremental text/event-stream parser (WHATWG HTML "event stream
 * interpretation"): any line ending, `field: value` with one optional space,
 * several `data:` lines joined by newlines, a blank line ends an event.
 * Unlike EventSource it also reports comments, so tests can see heartbeats.
 */
export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];

  feed(text: string): SseItem[] {
    this.buffer += text;
    const items: SseItem[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end might be the first half of \r\n: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const item = this.line(line);
      if (item) items.push(item);
    }
    return items;
  }

  private line(line: string): SseItem | null {
    if (line === '') {
      if (this.data.length === 0 && this.event === '') return null;
      const item: SseItem = { kind: 'event', id: this.id, event: this.event || 'message', data: this.data.join('\n') };
      this.id = undefined;
      this.event = '';
      this.data = [];
      return item;
    }
    if (line.startsWith(':')) return { kind: 'comment', text: line.slice(1).trimStart() };
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
    return null;
  }
}

export interface RawEventStream {
  response: Response;
  /** Everything read so far, in order. */
  readonly seen: SseItem[];
  /** Reads until `predicate` matches an item and returns that item; fails on timeout or end of stream. */
  until(predicate: (item: SseItem) => boolean, timeoutMs?: number): Promise<SseItem>;
  /** Reads until the server ends the stream; returns the items read after the last `until`. */
  readToEnd(timeoutMs?: number): Promise<SseItem[]>;
  /** The client disconnects. */
  close(): void;
}

/**
 * An event stream read with plain fetch, byte by byte as curl would: for
 * checking the wire format (ids, comments, where the stream ends).
 */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<RawEventStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const seen: SseItem[] = [];
  const parser = new SseParser();
  const items = new EventQueue<SseItem>();
  let consumed = 0;
  void (async () => {
    try {
      const decoder = new TextDecoder();
      for await (const chunk of response.body ?? []) {
        for (const item of parser.feed(decoder.decode(chunk, { stream: true }))) {
          seen.push(item);
          items.push(item);
        }
      }
    } catch {
      // Aborted by close(): the stream simply ends.
    }
    items.close();
  })();

  const read = async (timeoutMs: number): Promise<SseItem | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no SSE item within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`)), timeoutMs);
    });
    try {
      const next = await Promise.race([items.next(), timeout]);
      if (next.done) return null;
      consumed += 1;
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    response,
    seen,
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const item = await read(Math.max(1, deadline - Date.now()));
        if (item === null) throw new Error(`stream ended first; saw ${JSON.stringify(seen)}`);
        if (predicate(item)) return item;
      }
    },
    async readToEnd(timeoutMs = 10_000) {
      const start = consumed;
      const deadline = Date.now() + timeoutMs;
      while ((await read(Math.max(1, deadline - Date.now()))) !== null);
      return seen.slice(start);
    },
    close: () => controller.abort(),
  };
}

/**
 * `GET /api/auth/events` as `token` (in the Authorization header, or with
 * `via: 'query'` as `?token=` the way a browser's EventSource sends it),
 * returned once the server has said `connected`: the subscription is live.
 */
export async function openRestEvents(
  server: ServerAddress,
  token: string,
  options: { via?: 'header' | 'query' } = {},
): Promise<RawEventStream> {
  const stream =
    options.via === 'query'
      ? await openEventStream(`${urlOf(server)}/api/auth/events?token=${encodeURIComponent(token)}`)
      : await openEventStream(`${urlOf(server)}/api/auth/events`, { authorization: `Bearer ${token}` });
  expect(stream.response.status).toBe(200);
  await stream.until(isEvent('connected'));
  return stream;
}

export const isEvent =
  (name: string) =>
  (item: SseItem): boolean =>
    item.kind === 'event' && item.event === name;

/** A `session-revoked` event for this session. */
export const isRevocationOf =
  (sessionId: string) =>
  (item: SseItem): boolean =>
    isEvent('session-revoked')(item) && eventData(item).sessionId === sessionId;

/** The `sessionRevoked` subscription over SSE with plain fetch: the response as the client gets it. */
export async function subscribeOverSse(server: ServerAddress & { readonly graphqlUrl: string }, token: string, signal?: AbortSignal): Promise<Response> {
  return fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(SessionRevokedDocument) }),
    ...(signal ? { signal } : {}),
  });
}

/** A `session-revoked` event's data as a stream gave it. */
export interface Seen {
  sessionId: string;
  reason: string;
  current: boolean;
}

/** The `session-revoked` events of a REST stream, read to its end. */
export async function restEvents(stream: RawEventStream): Promise<Seen[]> {
  const items = await stream.readToEnd();
  return items.flatMap((item) => (item.kind === 'event' && item.event === 'session-revoked' ? [JSON.parse(item.data) as Seen] : []));
}

/** An event's JSON data (an empty object for a comment or nothing). */
export const eventData = (item: SseItem | undefined): Record<string, unknown> =>
  item?.kind === 'event' ? (JSON.parse(item.data) as Record<string, unknown>) : {};

/** What a browser-style EventSource reports: named events, and errors (the stream ending, or a refusal). */
export type SourceItem =
  | { type: 'connected' | 'session-revoked'; id: string; data: Record<string, unknown> }
  | { type: 'error'; status: number | undefined; readyState: number };

export interface Listener {
  source: EventSource;
  /** The next `n` items; fails after `timeoutMs`. */
  next(n?: number, timeoutMs?: number): Promise<SourceItem[]>;
  close(): void;
}

/** The `eventsource` package's EventSource, as a browser uses it: `?token=` in the URL, no headers. */
export function listen(url: string): Listener {
  const source = new EventSource(url);
  const queue = new EventQueue<SourceItem>();
  for (const type of ['connected', 'session-revoked'] as const) {
    source.addEventListener(type, (event: MessageEvent) => {
      queue.push({ type, id: event.lastEventId, data: JSON.parse(String(event.data)) as Record<string, unknown> });
    });
  }
  source.addEventListener('error', (event: ErrorEvent) => {
    queue.push({ type: 'error', status: event.code, readyState: source.readyState });
  });
  return {
    source,
    next: (n = 1, timeoutMs = 10_000) => take(queue, n, timeoutMs),
    close() {
      source.close();
      queue.close();
    },
  };
}

/**
 * Resolves when the server sees the client of its next request under
 * `pathPrefix` go away, through Node's own diagnostics channel (the test
 * server runs in this process): a server-side fact, not a guess by the clock.
 */
export function nextClientGone(pathPrefix: string): Promise<void> {
  return new Promise((resolve) => {
    const onStart = (message: unknown): void => {
      const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
      if (!request.url?.startsWith(pathPrefix)) return;
      diagnostics.unsubscribe('http.server.request.start', onStart);
      response.once('close', () => resolve());
    };
    diagnostics.subscribe('http.server.request.start', onStart);
  });
}
