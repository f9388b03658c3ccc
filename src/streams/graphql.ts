import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Viewer } from '../auth/viewer.js';
import { wantsEventStream } from '../http/request-info.js';
import type { ServerContext } from '../http/handler.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Services } from '../services.js';
import { viewOf, type SessionRevokedEvent, type SessionView } from '../sessions/session.js';
import { deliveryEvents, sliceAround, type Delivery } from './notice.js';
import type { ConnectionOperation } from './connection.js';
import { CreatedStep, isDelivery, startSessionStream, UpdatedStep, type SessionStream, type StreamStep } from './session-stream.js';
import { GRAPHQL_SSE_HEADERS, type Heartbeat, sourceReply, SSE_COMMENT, StreamResponse, type StreamReply } from './sse.js';

/**
 * GraphQL subscriptions over SSE (Yoga's "distinct connections" format), on
 * the session's stream (src/streams/session-stream.ts).
 *
 * `sessionRevoked` is delivered at the cost of one execution per event and
 * instance, not one per event and stream. A logoutAll of N sessions, each
 * with an open subscription, is N events for each of N streams: graphql-js
 * executes the selection once per event and stream, and Yoga's SSE writer
 * sends two chunks per result, pulled one at a time. Its fields are plain data
 * of the event (no resolver reads the context), so the result of one document
 * and variables for one event is the same for every stream: each delivery's
 * events are executed and rendered once per notice (src/streams/notice.ts),
 * and each stream writes slices of that text. The stream is answered as a
 * StreamResponse, which the Node listener writes straight to the socket: an
 * open subscription keeps its SessionStream and its document, not the
 * request, its context or Yoga's iterators over it. Other subscription fields
 * are executed per event and stream as usual, and written the same way.
 */

/** `sessionRevoked`'s source: the stream's events one at a time, as graphql-js reads a subscription. */
export class RevocationEvents implements AsyncIterableIterator<SessionRevokedEvent> {
  private batch: SessionRevokedEvent[] = [];
  private index = 0;
  private ended = false;

  constructor(readonly stream: SessionStream) {}

  async next(): Promise<IteratorResult<SessionRevokedEvent>> {
    while (!this.ended && this.index >= this.batch.length) {
      const step = await this.stream.next();
      if (step.done) return this.end();
      // Opened without `created` and `updated`, every step is a Delivery.
      if (!isDelivery(step.value)) continue;
      this.batch = deliveryEvents(step.value);
      this.index = 0;
    }
    return this.ended ? { done: true, value: undefined } : { done: false, value: this.batch[this.index++]! };
  }

  async return(): Promise<IteratorResult<SessionRevokedEvent>> {
    await this.stream.return();
    return this.end();
  }

  async throw(error?: unknown): Promise<IteratorResult<SessionRevokedEvent>> {
    await this.stream.return();
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private end(): IteratorReturnResult<undefined> {
    this.ended = true;
    return { done: true, value: undefined };
  }
}

export async function revocationEvents(services: Services, viewer: Viewer, authenticatedAt: Date, signal: AbortSignal): Promise<RevocationEvents> {
  // Listening before the subscription is answered: a stream that cannot start is the subscription's error.
  return new RevocationEvents(await startSessionStream(services, { viewer, authenticatedAt, signal, transport: 'graphql' }));
}

/**
 * `sessionCreated`'s and `sessionUpdated`'s source: the same stream opened
 * with `created` (or `updated`), of which it yields those sessions only. So it
 * ends where the stream ends (the viewer's own revocation, the session's
 * expiry, the client leaving, shutdown), keeps the stream's order, and counts
 * against the same caps.
 */
export async function sessionStepEvents(
  services: Services,
  viewer: Viewer,
  authenticatedAt: Date,
  signal: AbortSignal,
  kind: 'created' | 'updated',
): Promise<AsyncIterableIterator<SessionView>> {
  const stream = await startSessionStream(services, { viewer, authenticatedAt, signal, [kind]: true, transport: 'graphql' });
  const Step = kind === 'created' ? CreatedStep : UpdatedStep;
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let ended = false;
  const view: AsyncIterableIterator<SessionView> = {
    async next() {
      for (let step = await stream.next(); !ended && !step.done; step = await stream.next()) {
        if (step.value instanceof Step) return { done: false, value: viewOf(step.value.session, null) };
      }
      return done;
    },
    async return() {
      ended = true;
      await stream.return();
      return done;
    },
    async throw(error?: unknown) {
      ended = true;
      await stream.return();
      throw error;
    },
    [Symbol.asyncIterator]: () => view,
  };
  return view;
}

/**
 * A `sessionRevoked` subscription whose deliveries the SSE writer takes
 * directly, with what rendering them needs: the document, operation and
 * variables (never the request's context: the fields are plain data, and
 * authorization was checked when the subscription started). As an
 * AsyncIterable it is also the ordinary stream of results.
 */
export class SharedSubscription implements AsyncIterable<ExecutionResult> {
  /** What a result depends on besides the event: the same text for every stream with the same. */
  private readonly variant: string;

  constructor(
    readonly stream: SessionStream,
    private readonly args: Pick<ExecutionArgs, 'schema' | 'document' | 'operationName' | 'variableValues'>,
  ) {
    const source = args.document.loc?.source.body ?? '';
    this.variant = `graphql\u0000${source}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  }

  /** A delivery as SSE chunks: the shared part rendered once per notice, then the stream's own event. */
  async chunksOf(delivery: Delivery): Promise<Uint8Array[]> {
    const { notice, own } = delivery;
    const render = async (event: SessionRevokedEvent): Promise<string> => nextEvent(await this.execute(event));
    const chunks: Uint8Array[] = sliceAround(await notice.rendered(this.variant, render), own);
    if (own !== -1) chunks.push(encoder.encode(await notice.renderedOwn(this.variant, own, render)));
    return chunks;
  }

  /**
   * A delivery as events of operation `id` on a single connection
   * (`{"id", "payload"}`): each event's result still rendered once per notice
   * and document, its id added after it (JSON's key order is free).
   */
  async operationChunksOf(delivery: Delivery, id: string): Promise<Uint8Array[]> {
    const { notice, own } = delivery;
    const variant = `single\u0000${this.variant}`;
    const render = async (event: SessionRevokedEvent): Promise<string> => `event: next\ndata: {"payload":${serialize(await this.execute(event))},"id":`;
    const tail = encoder.encode(`${JSON.stringify(id)}}\n\n`);
    const { bytes, offsets } = await notice.rendered(variant, render);
    const chunks: Uint8Array[] = [];
    for (let index = 0; index < notice.events.length; index += 1) {
      if (index !== own) chunks.push(bytes.subarray(offsets[index], offsets[index + 1]), tail);
    }
    if (own !== -1) chunks.push(encoder.encode(await notice.renderedOwn(variant, own, render)), tail);
    return chunks;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ExecutionResult> {
    const events = new RevocationEvents(this.stream);
    try {
      for await (const event of events) yield await this.execute(event);
    } finally {
      await events.return();
    }
  }

  private async execute(event: SessionRevokedEvent): Promise<ExecutionResult> {
    return execute({ ...this.args, rootValue: event });
  }
}

/**
 * Where a request's `sessionRevoked` subscription waits for the SSE writer:
 * part of the GraphQL context (src/schema/builder.ts), set when the
 * subscription is executed and read once Yoga has executed the request.
 */
export interface SubscriptionSlot {
  subscription?: SharedSubscription;
}

/** Subscriptions executed with `sessionRevoked`'s shared delivery; everything else as graphql-js does. */
async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult | AsyncIterable<ExecutionResult>> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  if (iterator instanceof RevocationEvents) {
    const { schema, document, operationName, variableValues } = args;
    const shared = new SharedSubscription(iterator.stream, { schema, document, operationName, variableValues });
    // Read back by the plugin once Yoga has executed the request (onExecutionResult).
    (args.contextValue as SubscriptionSlot).subscription = shared;
    return shared;
  }
  return mapIterator(iterator, (event) => execute({ ...args, rootValue: event }));
}

/** Maps an async iterator, passing `return` through at once (a Repeater settles a pending `next`). */
function mapIterator<T, U>(source: AsyncIterator<T>, map: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await map(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The result as JSON, without the server-only `http` error extensions Yoga also leaves out. */
function serialize(result: ExecutionResult): string {
  const errors = result.errors?.map((error): GraphQLFormattedError => {
    const formatted = error.toJSON();
    const { http: _http, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
    return { ...formatted, ...(Object.keys(extensions).length ? { extensions } : { extensions: undefined }) };
  });
  return JSON.stringify(errors ? { ...result, errors } : result);
}

const encoder = new TextEncoder();

/** One result as Yoga's "distinct connections" SSE event. */
const nextEvent = (result: ExecutionResult): string => `event: next\ndata: ${serialize(result)}\n\n`;

/** One result of operation `id` as graphql-sse's single-connection event. */
const operationEvent = (id: string, result: ExecutionResult): Uint8Array =>
  encoder.encode(`event: next\ndata: {"id":${JSON.stringify(id)},"payload":${serialize(result)}}\n\n`);

/**
 * A result of an operation POSTed to a single connection, written there: a stream's results, or the one result.
 * `delivered` is told of each revocation as its chunks are made, just before the connection writes them.
 */
function runOn(operation: ConnectionOperation, result: unknown, delivered: (step: StreamStep) => void): void {
  if (result instanceof SharedSubscription) {
    operation.run<StreamStep>(result.stream, async (step) => {
      if (!isDelivery(step)) return [];
      const chunks = await result.operationChunksOf(step, operation.id);
      delivered(step);
      return chunks;
    });
  } else if (isAsyncIterable(result)) {
    operation.run((result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator](), (value) => [operationEvent(operation.id, value)]);
  } else {
    const single = (async function* () {
      yield result as ExecutionResult;
    })();
    operation.run(single, (value) => [operationEvent(operation.id, value)]);
  }
}

const COMPLETE = encoder.encode('event: complete\ndata:\n\n');

/**
 * Writes every GraphQL subscription over SSE itself: `sessionRevoked` through
 * its shared delivery, any other field one result at a time, both with the
 * server's heartbeat (SSE_HEARTBEAT_MS) and straight to the socket.
 */
export function useStreamDelivery(heartbeat: Heartbeat, log: Logger, metrics: Pick<Metrics, 'delivered'>): Plugin<SubscriptionSlot> {
  const failed = (error: unknown): void => log.warn({ err: (error as Error).message }, 'subscription stream failed');
  const reply = <T>(source: AsyncIterator<T>, chunksOf: (step: T) => Uint8Array[] | Promise<Uint8Array[]>, written?: (step: T) => void): StreamReply =>
    sourceReply(source, { headers: { ...GRAPHQL_SSE_HEADERS }, first: SSE_COMMENT, ping: SSE_COMMENT, heartbeat, chunksOf, written, last: COMPLETE, failed });
  const delivered = (step: StreamStep): void => {
    if (isDelivery(step)) metrics.delivered(step.notice.publishedAt);
  };
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as Parameters<typeof setSubscribeFn>[0]);
    },
    onExecutionResult({ context, result, setResult }) {
      // Yoga's own wrappers around the stream (error masking) have nothing to do for plain data.
      const { subscription } = context as SubscriptionSlot;
      if (subscription && result !== undefined && isAsyncIterable(result)) setResult(subscription);
    },
    onResultProcess({ request, result, setResultProcessor, serverContext }) {
      // An operation on a single connection: every result, a refusal too, is written there (graphql-sse answers 202).
      const { operation } = serverContext as ServerContext;
      if (operation) {
        setResultProcessor((value, fetchAPI) => {
          runOn(operation, value, delivered);
          return new fetchAPI.Response(null, { status: 202 });
        }, 'text/event-stream');
        return;
      }
      // Streams only: a refused subscription (an error result) keeps Yoga's answer and its status.
      if (!isAsyncIterable(result) || !wantsEventStream(request.headers.get('accept'))) return;
      setResultProcessor(() => {
        if (result instanceof SharedSubscription) {
          return new StreamResponse(
            reply<StreamStep>(result.stream, (step) => (isDelivery(step) ? result.chunksOf(step) : []), delivered),
          );
        }
        const results = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
        return new StreamResponse(reply(results, (value) => [encoder.encode(nextEvent(value))]));
      }, 'text/event-stream');
    },
  };
}
