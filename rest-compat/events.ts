import type { Viewer } from '../src/auth/viewer.js';
import { sourceReply, type StreamReply } from '../src/http/event-stream.js';
import { isDelivery, ownEvent, sessionRevokedBatches, type StreamStep } from '../src/resolvers/session-events.js';
import type { SessionRevokedEvent } from '../src/resolvers/views.js';
import type { Services } from '../src/services.js';
import { numberedAround } from '../src/shared-chunks.js';
import { toJson } from './shapes.js';

const encoder = new TextEncoder();

/**
 * An event's SSE lines after its `id:`, made once per event object. The
 * events of one revocation are shared by every stream of the instance, and
 * so is each session's own event (src/resolvers/session-events.ts): the
 * others are rendered once for all streams (src/shared-chunks.ts), and the own
 * event, which each of that session's streams sends, is serialized once too.
 */
const serialized = new WeakMap<SessionRevokedEvent, string>();

function eventLines(event: SessionRevokedEvent): string {
  let lines = serialized.get(event);
  if (lines === undefined) {
    // `data` is one line of JSON, so it never needs splitting over several `data:` lines.
    lines = `event: session-revoked\ndata: ${JSON.stringify(toJson('SessionRevokedEvent', event))}\n\n`;
    serialized.set(event, lines);
  }
  return lines;
}

const PING = encoder.encode(': ping\n\n');

const HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  connection: 'keep-alive',
  // nginx would otherwise buffer the stream and hold events back.
  'x-accel-buffering': 'no',
} as const;

/**
 * `GET /api/auth/events`: the `sessionRevoked` and `sessionCreated` subscriptions as plain SSE, for
 * EventSource and `curl -N`. The stream is the one GraphQL serves
 * (sessionRevokedBatches, with the new sign-ins in the same stream), so it has
 * the same no-gap guarantee and the same end.
 *
 * Everything that can fail happens before the answer is returned, so a bad or
 * revoked token, too many open streams, or an unreachable Redis is an ordinary
 * JSON error (thrown here, shaped by the router) and never a stream.
 *
 * `id:` is a counter per connection (1 is `connected`). Nothing is replayed
 * from `Last-Event-ID`: a reconnecting client is a new subscriber, and if its
 * own session was revoked meanwhile the reconnection is refused with 401.
 * The events of one delivery step (a logoutAll) go out as one write.
 */
export async function streamSessionEvents(services: Services, viewer: Viewer, authenticatedAt: Date): Promise<StreamReply> {
  const { events, ready } = await sessionRevokedBatches(services, { viewer, authenticatedAt, created: true });
  // Start it now and wait until it listens, so that a failure is still a JSON error.
  const first = events.next();
  first.catch(() => {});
  try {
    await ready;
  } catch (error) {
    await events.return();
    throw error;
  }
  let nextId = 1;
  const connected = encoder.encode(`id: ${nextId++}\nevent: connected\ndata: ${JSON.stringify({ sessionId: viewer.sessionId, userId: viewer.userId })}\n\n`);
  // The step already asked for, then the rest of the stream.
  let pending: Promise<IteratorResult<StreamStep>> | null = first;
  const source: AsyncIterator<StreamStep> = {
    next() {
      const step = pending ?? events.next();
      pending = null;
      return step;
    },
    return: () => events.return(),
  };
  // Ends on the viewer's own revocation, session expiry, shutdown, or the client leaving.
  return sourceReply(source, {
    headers: { ...HEADERS },
    first: connected,
    ping: PING,
    pingMs: services.config.sseHeartbeatMs,
    async chunksOf(step) {
      if (!isDelivery(step)) {
        return [encoder.encode(`id: ${nextId++}\nevent: session-created\ndata: ${JSON.stringify(toJson('Session', step.created))}\n\n`)];
      }
      const others = await numberedAround(step.events, 'rest', eventLines, step.own, nextId);
      nextId = others.nextId;
      const own = ownEvent(step);
      return own ? [...others.chunks, encoder.encode(`id: ${nextId++}\n${eventLines(own)}`)] : others.chunks;
    },
    failed: (error) => services.log.warn({ err: (error as Error).message }, 'event stream failed'),
  });
}
