import type { ServerResponse } from 'node:http';
import { Response } from '@whatwg-node/server';
import type { JsonReply } from '../http/responses.js';

/** Where an event stream writes: Node's response, or a fetch ReadableStream's controller. */
export interface StreamSink {
  write(chunk: Uint8Array): void;
  /** The stream ended by itself: finish the response cleanly. */
  end(): void;
}

/**
 * An event stream's answer before it is written, as JsonReply is for JSON:
 * the head, then `start`, which writes to the sink until the stream ends by
 * itself (`sink.end()`) or the client leaves (the returned `close`). The
 * fetch pipeline turns it into a Response (StreamResponse); on Node it is
 * written to Node's response (writeToNode) by the REST fast path
 * (src/http/node-reads.ts) and by writeStreamResponse.
 */
export interface StreamReply {
  status: 200;
  headers: Record<string, string>;
  start(sink: StreamSink): () => void;
  /** Never started (the client left before the head was written): let the stream go. */
  cancel(): void;
}

export const isStreamReply = (reply: JsonReply | StreamReply): reply is StreamReply => 'start' in reply;

/** What an event stream sends besides its events, and how it makes chunks of them. */
export interface StreamFormat<T> {
  headers: Record<string, string>;
  /** Sent at once: some clients report the stream open only when a first byte came. */
  first: Uint8Array;
  /** The keep-alive comment, and the shared timer that sends it. */
  ping: Uint8Array;
  heartbeat: Heartbeat;
  /** One step of the source as chunks, written in order. */
  chunksOf(step: T): Uint8Array[] | Promise<Uint8Array[]>;
  /** After a step's chunks were written (the delivery-latency metric). */
  written?(step: T): void;
  /** Sent when the source ends by itself (not when the client leaves). */
  last?: Uint8Array;
  /** The source failed: the stream ends (the client reconnects). */
  failed(error: unknown): void;
}

/**
 * An event stream over an async source, for both transports (the REST route,
 * GraphQL over SSE): `first` at once, `ping` on the shared heartbeat, each
 * step as `chunksOf` makes it, read straight from the source (an iterator in
 * between would be one more suspended function per open stream), then `last`
 * and the end. The client leaving, or a reply never started, returns the source.
 */
export function sourceReply<T>(source: AsyncIterator<T>, format: StreamFormat<T>): StreamReply {
  return {
    status: 200,
    headers: format.headers,
    start(sink) {
      sink.write(format.first);
      const stopBeating = format.heartbeat.add(() => sink.write(format.ping));
      void (async () => {
        try {
          for (let step = await source.next(); !step.done; step = await source.next()) {
            for (const chunk of await format.chunksOf(step.value)) sink.write(chunk);
            format.written?.(step.value);
          }
          // After the client left, the sink takes no more: this goes nowhere.
          if (format.last) sink.write(format.last);
        } catch (error) {
          format.failed(error);
        } finally {
          stopBeating();
          sink.end();
        }
      })();
      return () => {
        stopBeating();
        void source.return?.();
      };
    },
    cancel() {
      void source.return?.();
    },
  };
}

/**
 * Bytes a client may leave unread before its stream is cut. A reader that
 * stalls would otherwise make the server keep every event sent to it; a
 * logoutAll of a thousand sessions is about 160 kB per stream, so a reader
 * that is merely slow stays well under it.
 */
export const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

/**
 * An event stream as a fetch Response. Its body starts the stream only when
 * first read (a zero high-water mark); the Node listener recognises this class
 * (writeStreamResponse) and writes `reply` to the socket itself instead of
 * reading the body, so an open stream holds no fetch body or reader.
 */
export class StreamResponse extends Response {
  constructor(readonly reply: StreamReply) {
    let close: (() => void) | null = null;
    let open = true;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (close) return;
          close = reply.start({
            write: (chunk) => {
              if (open) controller.enqueue(chunk);
            },
            end: () => {
              if (!open) return;
              open = false;
              controller.close();
            },
          });
        },
        // The client went away: the stream is already cancelled, so only clean up.
        cancel() {
          open = false;
          if (close) close();
          else reply.cancel();
        },
      },
      { highWaterMark: 0 },
    );
    super(body, { status: reply.status, headers: reply.headers });
  }
}

/**
 * A StreamResponse written to Node's response: its head, then the stream
 * itself (writeToNode), until it ends or the client leaves; its fetch body is
 * never read. A client already gone gets nothing, and the stream gives its
 * place back.
 */
export function writeStreamResponse(response: StreamResponse, res: ServerResponse): void {
  if (res.destroyed || res.writableEnded) {
    response.reply.cancel();
    return;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  writeToNode(response.reply, res);
}

/**
 * Writes the stream to Node's response, whose head the caller has written.
 * No fetch ReadableStream, reader or pump per stream: with thousands of idle
 * streams open, what each one holds is most of the server's memory
 * (bench/README.md, "Revocation at scale").
 */
export function writeToNode(reply: StreamReply, res: ServerResponse): void {
  const socket = res.socket;
  // Events go out as they are written, and an idle stream is not timed out.
  socket?.setNoDelay(true);
  socket?.setTimeout(0);
  socket?.setKeepAlive(true);
  const close = reply.start({
    write: (chunk) => {
      if (res.destroyed || res.writableEnded) return;
      res.write(chunk);
      if (res.writableLength > MAX_UNREAD_BYTES) res.destroy();
    },
    end: () => {
      if (!res.destroyed && !res.writableEnded) res.end();
    },
  });
  res.once('close', close);
}

/**
 * One timer for every stream's keep-alive comment (SSE_HEARTBEAT_MS), instead
 * of a timer per stream; both transports' streams share it. It runs only
 * while some stream listens.
 */
export class Heartbeat {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly intervalMs: number) {}

  /** Adds a stream's beat; returns the function that takes it off. */
  add(beat: () => void): () => void {
    this.listeners.add(beat);
    if (!this.timer) {
      this.timer = setInterval(() => this.listeners.forEach((each) => each()), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(beat);
      if (this.listeners.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }
}

/** graphql-sse's event streams (`/graphql`'s distinct connections and `/graphql/stream`): their headers, and a comment that opens them. */
export const GRAPHQL_SSE_HEADERS = { 'content-type': 'text/event-stream', connection: 'keep-alive', 'cache-control': 'no-cache', 'content-encoding': 'none' } as const;
export const SSE_COMMENT = new TextEncoder().encode(':\n\n');
