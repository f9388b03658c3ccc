import type { Viewer } from '../src/auth/viewer.js';
import type { Services } from '../src/services.js';
import { viewOf, type SessionRevokedEvent } from '../src/sessions/session.js';
import type { Delivery } from '../src/streams/notice.js';
import { CreatedStep, isDelivery, startSessionStream, UpdatedStep } from '../src/streams/session-stream.js';
import { sourceReply, type StreamReply } from '../src/streams/sse.js';
import { toJson } from './shapes.js';

const encoder = new TextEncoder();

/** An event's SSE lines after its `id:`. `data` is one line of JSON, so it never needs splitting. */
const revokedLines = (event: SessionRevokedEvent): string =>
  `event: session-revoked\ndata: ${JSON.stringify(toJson('SessionRevokedEvent', event))}\n\n`;

const PING = encoder.encode(': ping\n\n');

const HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  connection: 'keep-alive',
  // nginx would otherwise buffer the stream and hold events back.
  'x-accel-buffering': 'no',
} as const;

/**
 * A delivery's events as numbered SSE chunks: all but the stream's own, each
 * after an `id:` line counted from `firstId`, then its own. Still no work per
 * event and stream: the streams of one user on an instance usually have seen
 * the same events, so they share `firstId`, and two renders per `firstId`
 * serve every stream (the events before its own are numbered from `firstId`,
 * those after it one lower, as if numbered from `firstId - 1`).
 */
export async function numberedDelivery({ notice, own }: Delivery, firstId: number): Promise<{ chunks: Uint8Array[]; nextId: number }> {
  const numbered = (from: number) => notice.rendered(`rest#${from}`, (event, index) => `id: ${from + index}\n${revokedLines(event)}`);
  const before = await numbered(firstId);
  if (own === -1) return { chunks: [before.bytes], nextId: firstId + notice.events.length };
  const after = await numbered(firstId - 1);
  const others = [before.bytes.subarray(0, before.offsets[own]), after.bytes.subarray(after.offsets[own + 1])].filter((c) => c.length > 0);
  const lastId = firstId + notice.events.length - 1;
  const ownLines = await notice.renderedOwn('rest', own, revokedLines);
  return { chunks: [...others, encoder.encode(`id: ${lastId}\n${ownLines}`)], nextId: lastId + 1 };
}

/**
 * `GET /api/auth/events`: the session's stream (src/streams/session-stream.ts,
 * opened with sign-ins and renames) as plain SSE, for EventSource and `curl -N`: the same
 * no-gap guarantee and the same end as the GraphQL subscriptions.
 *
 * Everything that can fail happens before the answer is returned, so a bad or
 * revoked token, too many open streams, or an unreachable Redis is an ordinary
 * JSON error (thrown here, shaped by the router) and never a stream.
 *
 * `id:` is a counter per connection (1 is `connected`). Nothing is replayed
 * from `Last-Event-ID`: a reconnecting client is a new subscriber, and if its
 * own session was revoked meanwhile the reconnection is refused with 401.
 * The events of one delivery (a logoutAll) go out as one write.
 */
export async function streamSessionEvents(services: Services, viewer: Viewer, authenticatedAt: Date): Promise<StreamReply> {
  // Listening before the answer, so that a failure to start is still a JSON error.
  const stream = await startSessionStream(services, { viewer, authenticatedAt, created: true, updated: true, transport: 'rest' });
  let nextId = 1;
  const connected = encoder.encode(`id: ${nextId++}\nevent: connected\ndata: ${JSON.stringify({ sessionId: viewer.sessionId, userId: viewer.userId })}\n\n`);
  // Ends on the viewer's own revocation, session expiry, shutdown, or the client leaving.
  return sourceReply(stream, {
    headers: { ...HEADERS },
    first: connected,
    ping: PING,
    heartbeat: services.heartbeat,
    async chunksOf(step) {
      if (step instanceof UpdatedStep) {
        const data = { sessionId: step.session.id, deviceInfo: step.session.deviceInfo };
        return [encoder.encode(`id: ${nextId++}\nevent: session-updated\ndata: ${JSON.stringify(data)}\n\n`)];
      }
      if (step instanceof CreatedStep) {
        return [encoder.encode(`id: ${nextId++}\nevent: session-created\ndata: ${JSON.stringify(toJson('Session', viewOf(step.session, null)))}\n\n`)];
      }
      const numbered = await numberedDelivery(step, nextId);
      nextId = numbered.nextId;
      return numbered.chunks;
    },
    written(step) {
      if (isDelivery(step)) services.metrics.delivered(step.notice.publishedAt);
    },
    failed: (error) => services.log.warn({ err: (error as Error).message }, 'event stream failed'),
  });
}
