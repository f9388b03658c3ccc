import type { Viewer } from '../src/auth/viewer.js';
import { sessionCreatedEvents } from '../src/resolvers/session-created.js';
import { ownEvent, sessionRevokedBatches, type Delivery } from '../src/resolvers/session-events.js';
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

/**
 * `GET /api/auth/events`: the `sessionRevoked` and `sessionCreated` subscriptions as plain SSE, for
 * EventSource and `curl -N`. The stream is the one GraphQL serves
 * (sessionRevokedBatches), so it has the same no-gap guarantee and the same end.
 *
 * Everything that can fail happens before the response starts, so a bad or
 * revoked token, too many open streams, or an unreachable Redis is an ordinary
 * JSON error (thrown here, shaped by the router) and never a stream.
 *
 * `id:` is a counter per connection (1 is `connected`). Nothing is replayed
 * from `Last-Event-ID`: a reconnecting client is a new subscriber, and if its
 * own session was revoked meanwhile the reconnection is refused with 401.
 * The events of one delivery step (a logoutAll) go out as one chunk.
 */
export async function streamSessionEvents(
  services: Services,
  request: Request,
  viewer: Viewer,
  authenticatedAt: Date,
): Promise<Response> {
  const { events, ready } = await sessionRevokedBatches(services, { viewer, authenticatedAt, signal: request.signal });
  // Start it now and wait until it listens, so that a failure is still a JSON error.
  const first = events.next();
  first.catch(() => {});
  try {
    await ready;
  } catch (error) {
    await events.return();
    throw error;
  }
  // New sign-ins on the account, from the same instant (it ends by itself when the viewer's session does).
  // Started and set up before `connected` too, so that its one replay read belongs to the stream's start.
  let createdReady = (): void => {};
  const createdListening = new Promise<void>((resolve) => (createdReady = resolve));
  const created = sessionCreatedEvents(services, viewer, authenticatedAt, request.signal, createdReady);
  const firstCreated = created.next();
  firstCreated.catch(() => {});
  await createdListening;

  let nextId = 1;
  let open = true;
  let heartbeat: NodeJS.Timeout | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunk: Uint8Array): void => {
        if (open) controller.enqueue(chunk);
      };
      heartbeat = setInterval(() => send(PING), services.config.sseHeartbeatMs);
      send(encoder.encode(`id: ${nextId++}\nevent: connected\ndata: ${JSON.stringify({ sessionId: viewer.sessionId, userId: viewer.userId })}\n\n`));
      const write = async (delivery: Delivery): Promise<void> => {
        const others = await numberedAround(delivery.events, 'rest', eventLines, delivery.own, nextId);
        nextId = others.nextId;
        for (const chunk of others.chunks) send(chunk);
        const own = ownEvent(delivery);
        if (own) send(encoder.encode(`id: ${nextId++}\n${eventLines(own)}`));
      };
      void (async () => {
        // Ends on the viewer's own revocation, session expiry, shutdown, or the client leaving.
        try {
          let step = await first;
          while (!step.done) {
            await write(step.value);
            step = await events.next();
          }
        } catch (error) {
          services.log.warn({ err: (error as Error).message }, 'event stream failed');
        }
        clearInterval(heartbeat);
        void created.return();
        if (open) {
          open = false;
          controller.close();
        }
      })();
      void (async () => {
        for (let step = await firstCreated; !step.done; step = await created.next()) {
          send(encoder.encode(`id: ${nextId++}\nevent: session-created\ndata: ${JSON.stringify(toJson('Session', step.value))}\n\n`));
        }
      })().catch((error: unknown) => services.log.warn({ err: (error as Error).message }, 'session-created events stopped'));
    },
    // The client went away: the stream is already cancelled, so only clean up.
    cancel() {
      open = false;
      clearInterval(heartbeat);
      void events.return();
      void created.return();
    },
  });

  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream and hold events back.
      'x-accel-buffering': 'no',
    },
  });
}
