import type { Viewer } from '../src/auth/viewer.js';
import { sessionRevokedEvents } from '../src/resolvers/session-events.js';
import type { Services } from '../src/services.js';
// Deliberate: REST bodies are shaped from the GraphQL types (one field list for both APIs, API.md).
import { toJson } from './shapes.js';

const encoder = new TextEncoder();

/** One SSE frame. `data` is one line of JSON, so it never needs splitting over several `data:` lines. */
const frame = (id: number, event: string, data: unknown): Uint8Array =>
  encoder.encode(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

const PING = encoder.encode(': ping\n\n');

/**
 * `GET /api/auth/events`: the `sessionRevoked` subscription as plain SSE, for
 * EventSource and `curl -N`. The stream is the one GraphQL serves
 * (sessionRevokedEvents), so it has the same no-gap guarantee and the same end.
 *
 * Everything that can fail happens before the response starts, so a bad or
 * revoked token, or an unreachable Redis, is an ordinary JSON error (thrown
 * here, shaped by the router) and never a stream.
 *
 * `id:` is a counter per connection (1 is `connected`). Nothing is replayed
 * from `Last-Event-ID`: a reconnecting client is a new subscriber, and if its
 * own session was revoked meanwhile the reconnection is refused with 401.
 */
export async function streamSessionEvents(
  services: Services,
  request: Request,
  viewer: Viewer,
  authenticatedAt: Date,
): Promise<Response> {
  // Resolves once the broker acknowledged the subscription: from here on nothing is missed.
  // It ends by itself on the viewer's own revocation, session expiry, or the client leaving.
  const events = await sessionRevokedEvents(services, viewer, authenticatedAt, request.signal);

  let open = true;
  let heartbeat: NodeJS.Timeout | undefined;
  // Runs once, whichever way the stream ends; true if this call ended it.
  const finish = (): boolean => {
    if (!open) return false;
    open = false;
    clearInterval(heartbeat);
    void events.return();
    return true;
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let nextId = 1;
      const send = (chunk: Uint8Array): void => {
        if (open) controller.enqueue(chunk);
      };
      heartbeat = setInterval(() => send(PING), services.config.sseHeartbeatMs);
      send(frame(nextId++, 'connected', { sessionId: viewer.sessionId, userId: viewer.userId }));
      void (async () => {
        // Ends on the viewer's own revocation, session expiry, or the client leaving.
        for await (const event of events) send(frame(nextId++, 'session-revoked', toJson('SessionRevokedEvent', event)));
        if (finish()) controller.close();
      })();
    },
    // The client went away: the stream is already cancelled, so only clean up.
    cancel() {
      finish();
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
