import { randomBytes } from 'node:crypto';
import type { Viewer } from '../auth/viewer.js';
import { AppError, notFound } from '../errors.js';
import type { Services } from '../services.js';
import { startSessionStream, type SessionStream } from './session-stream.js';
import { GRAPHQL_SSE_HEADERS, MAX_UNREAD_BYTES, SSE_COMMENT, type StreamReply, type StreamSink } from './sse.js';

/**
 * graphql-sse's "single connection mode" (its PROTOCOL.md), served on
 * `/graphql/stream` (src/graphql/stream-route.ts): a browser tab keeps one
 * event stream however many operations it runs, instead of one HTTP/1.1
 * connection each (a browser allows six per host).
 *
 * A connection is reserved (PUT, with the caller's credentials), then opened
 * (one GET with `Accept: text/event-stream`); operations are POSTed to it
 * and their results written on it as `{"id", "payload"}` events, each
 * operation ending with its own `complete`. It is bound to the session that
 * reserved it, and it is itself a session stream (src/streams/session-stream.ts)
 * that delivers nothing: so it takes one place of STREAMS_PER_SESSION and
 * STREAMS_PER_USER from its reservation on (reservations cannot pile up), is
 * ended by shutdown, and ends when its session is revoked or expires, once
 * each of its operations has written its last event. Each subscription on it
 * is an ordinary stream of its own, with its own place, replay and order.
 */

/** graphql-sse's names for the stream token (its `TOKEN_HEADER_KEY`, `TOKEN_QUERY_KEY`). */
export const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';
export const STREAM_TOKEN_PARAM = 'token';

/** A reservation not opened in this time lapses and gives its place back (graphql-sse's client opens it at once). */
export const RESERVATION_MS = 10_000;

/** An operation id is the client's (a UUID from graphql-sse's client); it is echoed in every event, so it is bounded. */
const MAX_OPERATION_ID = 128;

const encoder = new TextEncoder();

/** Makes the chunks of one step of an operation's results. */
export type ChunksOf<T> = (step: T) => Uint8Array[] | Promise<Uint8Array[]>;

/** One operation on a connection, as the GraphQL delivery sees it (src/streams/graphql.ts). */
export interface ConnectionOperation {
  readonly id: string;
  /** The session whose credentials the operation must carry: the connection's. */
  readonly owner: { readonly userId: string; readonly sessionId: string };
  /** Writes each step of `source` as this operation's events, then its `complete`. Called at most once. */
  run<T>(source: AsyncIterator<T>, chunksOf: ChunksOf<T>): void;
  /** The request was answered: an operation that never ran (refused before Yoga processed it) is forgotten. */
  settle(): void;
}

/** One reserved or open connection. */
class EventStreamConnection {
  /** Each operation's source once it runs; null while it is being executed. */
  private readonly operations = new Map<string, AsyncIterator<unknown> | null>();
  private sink: StreamSink | null = null;
  private opened = false;
  /** What was written before the stream was opened (the protocol allows it), and its size. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** The connection's own stream ended: no new operations, and it closes once the last one has ended. */
  private ending = false;
  private closed = false;
  private readonly lapse: NodeJS.Timeout;
  private stopBeating: () => void = () => {};

  constructor(
    readonly token: string,
    readonly owner: { readonly userId: string; readonly sessionId: string },
    private readonly stream: SessionStream,
    private readonly services: Services,
    private readonly forget: (token: string) => void,
  ) {
    this.lapse = setTimeout(() => this.close(), RESERVATION_MS);
    this.lapse.unref();
    void this.watch();
  }

  /** The event stream's answer (GET); a second one for the same token is refused. */
  open(): StreamReply {
    if (this.opened || this.closed) {
      throw new AppError('BAD_USER_INPUT', 'This event stream is already open', { status: 409, refusesRequest: true });
    }
    this.opened = true;
    // From here the reply's start or cancel decides.
    clearTimeout(this.lapse);
    return {
      status: 200,
      headers: { ...GRAPHQL_SSE_HEADERS },
      start: (sink) => {
        if (this.closed) {
          sink.end();
          return () => {};
        }
        this.sink = sink;
        sink.write(SSE_COMMENT);
        for (const chunk of this.pending) sink.write(chunk);
        this.pending = [];
        this.stopBeating = this.services.heartbeat.add(() => sink.write(SSE_COMMENT));
        if (this.ending && this.operations.size === 0) this.close();
        return () => this.close();
      },
      cancel: () => this.close(),
    };
  }

  /** Takes an operation id for a POSTed operation: refused if it is running, or the connection ended. */
  operation(id: unknown): ConnectionOperation {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_OPERATION_ID) {
      throw new AppError('BAD_USER_INPUT', `extensions.operationId must be a string of 1 to ${MAX_OPERATION_ID} characters`, {
        field: 'extensions.operationId',
        refusesRequest: true,
      });
    }
    if (this.closed || this.ending) throw notFound('This event stream has ended: reserve another');
    if (this.operations.has(id)) {
      throw new AppError('BAD_USER_INPUT', 'An operation with this id is already running', { status: 409, refusesRequest: true });
    }
    this.operations.set(id, null);
    let ran = false;
    return {
      id,
      owner: this.owner,
      run: (source, chunksOf) => {
        ran = true;
        this.run(id, source, chunksOf);
      },
      settle: () => {
        if (!ran && this.operations.get(id) === null) this.operations.delete(id);
      },
    };
  }

  /** DELETE: the client stopped the operation; it sends nothing more, not even its `complete`. */
  cancel(id: string): void {
    const source = this.operations.get(id);
    if (source === undefined) return;
    this.operations.delete(id);
    void source?.return?.();
    this.endIfDone();
  }

  /** Ends everything at once: the client left, the reservation lapsed, a write overflowed, or an operation failed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lapse);
    this.stopBeating();
    const sources = [...this.operations.values()];
    this.operations.clear();
    for (const source of sources) void source?.return?.();
    void this.stream.return();
    this.forget(this.token);
    this.sink?.end();
  }

  private run<T>(id: string, source: AsyncIterator<T>, chunksOf: ChunksOf<T>): void {
    const current = (): boolean => this.operations.get(id) === source;
    // Cancelled (DELETE) or closed while it was being executed.
    if (this.closed || !this.operations.has(id)) {
      void source.return?.();
      return;
    }
    this.operations.set(id, source);
    void (async () => {
      let clean = false;
      try {
        for (let step = await source.next(); !step.done; step = await source.next()) {
          const chunks = await chunksOf(step.value);
          if (!current()) break;
          // One step's chunks in a row: another operation's event never falls inside one of this one's.
          for (const chunk of chunks) this.write(chunk);
        }
        clean = true;
      } catch (error) {
        this.services.log.warn({ err: (error as Error).message }, 'single-connection operation failed');
      } finally {
        if (current()) {
          this.operations.delete(id);
          // A failed operation ends the connection without its `complete`, as a distinct stream ends: the client reconnects.
          if (clean) this.write(encoder.encode(`event: complete\ndata: ${JSON.stringify({ id })}\n\n`));
          else this.close();
        }
        this.endIfDone();
      }
    })();
  }

  private write(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.sink) {
      this.sink.write(chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes > MAX_UNREAD_BYTES) this.close();
  }

  /** Follows the connection's own stream to its end (its session revoked or expired, shutdown, the feed lost). */
  private async watch(): Promise<void> {
    try {
      for (let step = await this.stream.next(); !step.done; step = await this.stream.next());
    } catch {
      // The feed was lost: the operations' own streams end with it too.
    }
    this.ending = true;
    // Not opened yet: nothing to wait for.
    if (this.sink === null) this.close();
    else this.endIfDone();
  }

  private endIfDone(): void {
    if (this.ending && this.operations.size === 0) this.close();
  }
}

/**
 * This instance's connections, by stream token. A connection lives on the
 * instance that reserved it: behind a load balancer, a client's
 * `/graphql/stream` requests must reach one instance (docs/operations.md).
 */
export class StreamConnections {
  private readonly connections = new Map<string, EventStreamConnection>();

  constructor(private readonly services: Services) {}

  /**
   * Reserves a connection for the viewer's session: its stream starts now
   * (RATE_LIMITED over the caps, SERVICE_UNAVAILABLE when it cannot listen),
   * and revocations from `authenticatedAt` on end it.
   */
  async reserve(viewer: Viewer, authenticatedAt: Date): Promise<string> {
    const stream = await startSessionStream(this.services, { viewer, authenticatedAt, transport: 'graphql' });
    const token = randomBytes(24).toString('base64url');
    const owner = { userId: viewer.userId, sessionId: viewer.sessionId };
    this.connections.set(token, new EventStreamConnection(token, owner, stream, this.services, (gone) => this.connections.delete(gone)));
    return token;
  }

  /** The connection of a stream token, or NOT_FOUND (never reserved here, lapsed, or ended). */
  find(token: string | null): EventStreamConnection {
    const connection = token === null ? undefined : this.connections.get(token);
    if (!connection) throw notFound('No event stream is reserved for this token: reserve one with PUT');
    return connection;
  }
}
