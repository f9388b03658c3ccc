import {
  createSourceEventStream,
  execute,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { ownEvent, type Delivery } from './resolvers/session-events.js';
import { sourceReply, toStreamResponse, type StreamReply } from './http/event-stream.js';
import { wantsEventStream } from './http/request-info.js';
import type { Logger } from './logger.js';
import { renderOnce, sliceAround } from './shared-chunks.js';

/**
 * Subscriptions delivered at the cost of one execution per event, not one per
 * event and listener.
 *
 * A logoutAll of N sessions, each with an open subscription, is N events for
 * each of N streams. graphql-js executes the selection once per event and
 * stream, and Yoga's SSE writer sends two chunks per result, pulled one at a
 * time: at N = 300 that took seconds. Here:
 * - `sessionRevoked` source events are shared objects (one per session and
 *   message, src/resolvers/session-events.ts), and its fields are plain data of
 *   the event (no resolver reads the context). So the result of one document
 *   (with its variables) for one event is the same for every stream: executed
 *   once, kept in a WeakMap on the event, and serialized once.
 * - A delivery's results are rendered to SSE bytes once per instance, and
 *   each stream writes slices of them (src/shared-chunks.ts).
 * - The stream is answered as a StreamReply (src/http/event-stream.ts), which
 *   the Node listener writes straight to the socket: an open subscription
 *   keeps its deliveries' Repeater and its document, not the request, its
 *   context or Yoga's iterators over it.
 * Other subscription fields are executed per event and stream as usual.
 */
const SHARED_FIELDS = new Set(['sessionRevoked']);

const PING_MS = 12_000;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/** The root field of the operation to run, if the document names it plainly. */
function rootField(args: ExecutionArgs): string | undefined {
  for (const definition of args.document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (args.operationName && definition.name?.value !== args.operationName) continue;
    const [selection] = definition.selectionSet.selections;
    return selection?.kind === Kind.FIELD && definition.selectionSet.selections.length === 1 ? selection.name.value : undefined;
  }
  return undefined;
}

/** What the result of one event depends on besides the event: the document, the operation, the variables. */
function variantKey(args: ExecutionArgs): string {
  let id = documentIds.get(args.document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(args.document, id);
  }
  return `${id}:${args.operationName ?? ''}:${JSON.stringify(args.variableValues ?? {})}`;
}

type Executed = ReturnType<typeof execute>;
const executedByEvent = new WeakMap<object, Map<string, Executed>>();

function executeShared(args: ExecutionArgs, key: string, event: object): Executed {
  let byVariant = executedByEvent.get(event);
  if (!byVariant) {
    byVariant = new Map();
    executedByEvent.set(event, byVariant);
  }
  let result = byVariant.get(key);
  if (result === undefined) {
    result = execute({ ...args, rootValue: event });
    byVariant.set(key, result);
  }
  return result;
}

/** Maps an async iterator, passing `return` through at once (a Repeater settles a pending `next`). */
function mapIterator<T, U>(source: AsyncIterator<T>, map: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { done: true, value: undefined };
      const value = map(step.value);
      return { done: false, value: value instanceof Promise ? await value : value };
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

/**
 * A shared-field stream whose deliveries the SSE writer takes directly, by
 * request, with what rendering its events needs: the document, the operation
 * and the variables, never the request's context (the fields are plain data,
 * and authorization was checked when the subscription started). So an open
 * stream holds its Repeater and these, not the request it came with.
 */
interface BatchSource {
  batches: AsyncIterator<Delivery>;
  args: ExecutionArgs;
  key: string;
}
const batchSources = new WeakMap<Request, BatchSource>();

const hasBatches = (value: unknown): value is { batches: AsyncIterator<Delivery> } =>
  typeof value === 'object' && value !== null && 'batches' in value;

async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const field = rootField(args);
  if (field === undefined || !SHARED_FIELDS.has(field)) {
    return mapIterator(iterator, (event) => execute({ ...args, rootValue: event }));
  }
  const key = variantKey(args);
  const request = (args.contextValue as { request?: Request } | undefined)?.request;
  if (request && hasBatches(iterator)) {
    const { schema, document, operationName, variableValues } = args;
    batchSources.set(request, { batches: iterator.batches, args: { schema, document, operationName, variableValues }, key });
  }
  return mapIterator(iterator, (event) =>
    typeof event === 'object' && event !== null ? executeShared(args, key, event) : execute({ ...args, rootValue: event }),
  );
}

const serialized = new WeakMap<ExecutionResult, string>();

/** The result as JSON, without the server-only `http` error extensions Yoga also leaves out. */
function serialize(result: ExecutionResult): string {
  let text = serialized.get(result);
  if (text === undefined) {
    const errors = result.errors?.map((error): GraphQLFormattedError => {
      const formatted = error.toJSON();
      const { http: _http, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...formatted, ...(Object.keys(extensions).length ? { extensions } : { extensions: undefined }) };
    });
    text = JSON.stringify(errors ? { ...result, errors } : result);
    serialized.set(result, text);
  }
  return text;
}

const encoder = new TextEncoder();

/** One result as Yoga's "distinct connections" SSE event. */
const nextEvent = (result: ExecutionResult): string => `event: next\ndata: ${serialize(result)}\n\n`;

/**
 * A shared-field stream's delivery as SSE chunks: the shared part is rendered
 * once per instance (for this document and variables), so a logoutAll seen by
 * a thousand streams costs each of them a few slices and one execution of its
 * own event. The per-event envelop hooks are skipped for these results: they
 * carry no errors to mask (plain data fields). Yoga's own iterator over the
 * same stream is left unread: ending the deliveries ends the stream, and
 * nothing of the request stays behind.
 */
function deliveryChunks({ args, key }: BatchSource): (delivery: Delivery) => Promise<Uint8Array[]> {
  const render = async (event: object): Promise<string> => {
    const executed = executeShared(args, key, event);
    return nextEvent(executed instanceof Promise ? await executed : executed);
  };
  return async (delivery) => {
    const chunks: Uint8Array[] = sliceAround(await renderOnce(delivery.events, key, render), delivery.own);
    const own = ownEvent(delivery);
    if (own) chunks.push(encoder.encode(await render(own)));
    return chunks;
  };
}

/** One of Yoga's results as an SSE chunk. */
const resultChunks = (result: ExecutionResult): Uint8Array[] => [encoder.encode(nextEvent(result))];

const COMMENT = encoder.encode(':\n\n');
const COMPLETE = encoder.encode('event: complete\ndata:\n\n');
const HEADERS = { 'content-type': 'text/event-stream', connection: 'keep-alive', 'cache-control': 'no-cache', 'content-encoding': 'none' } as const;

/** GraphQL over SSE (Yoga's "distinct connections" format): each step of `source` as `chunksOf` makes it. */
function graphqlStream<T>(source: AsyncIterator<T>, chunksOf: (value: T) => Uint8Array[] | Promise<Uint8Array[]>, failed: (error: unknown) => void): StreamReply {
  return sourceReply(source, { headers: { ...HEADERS }, first: COMMENT, ping: COMMENT, pingMs: PING_MS, chunksOf, last: COMPLETE, failed });
}

export function useSharedSubscriptionDelivery(log: Logger): Plugin {
  const failed = (error: unknown): void => log.warn({ err: (error as Error).message }, 'subscription stream failed');
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeShared as Parameters<typeof setSubscribeFn>[0]);
    },
    onResultProcess({ request, result, setResultProcessor }) {
      // Streams only: a refused subscription (an error result) keeps Yoga's answer and its status.
      if (isAsyncIterable(result) && wantsEventStream(request.headers.get('accept'))) {
        const batched = batchSources.get(request);
        setResultProcessor((value, fetchAPI) => {
          const reply = batched
            ? graphqlStream(batched.batches, deliveryChunks(batched), failed)
            : graphqlStream((value as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator](), resultChunks, failed);
          return toStreamResponse(reply, fetchAPI);
        }, 'text/event-stream');
      }
    },
  };
}
