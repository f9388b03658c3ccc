import { once } from 'node:events';
import { createServer, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat, MAX_UNREAD_BYTES, StreamResponse, writeToNode, type StreamReply, type StreamSink } from './sse.js';

/** A stream that records what happens to it, and lets the test write through its sink. */
function recordingReply(): { reply: StreamReply; sink: () => StreamSink; closed: () => number; cancelled: () => number } {
  let sink: StreamSink | null = null;
  let closed = 0;
  let cancelled = 0;
  return {
    reply: {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      start(given) {
        sink = given;
        // As every stream does: a first comment at once.
        given.write(new TextEncoder().encode(':\n\n'));
        return () => void (closed += 1);
      },
      cancel: () => void (cancelled += 1),
    },
    sink: () => {
      if (!sink) throw new Error('not started');
      return sink;
    },
    closed: () => closed,
    cancelled: () => cancelled,
  };
}

describe('StreamResponse', () => {
  it('starts the stream only when its body is read, and closes it when the reader cancels', async () => {
    const recorded = recordingReply();
    const response = new StreamResponse(recorded.reply);
    expect(response.status).toBe(200);
    expect(() => recorded.sink()).toThrow('not started');
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(':\n\n');
    recorded.sink().write(new TextEncoder().encode(': hello\n\n'));
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(': hello\n\n');
    await reader.cancel();
    expect(recorded.closed()).toBe(1);
  });

  it('gives the stream back unstarted when the body is cancelled before any read', async () => {
    const recorded = recordingReply();
    await new StreamResponse(recorded.reply).body!.cancel();
    expect(recorded.cancelled()).toBe(1);
    expect(recorded.closed()).toBe(0);
  });
});

describe('writeToNode', () => {
  const servers: Array<{ close(): void }> = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  /** A server that writes a recorded stream to every request, and a client's request to it. */
  async function served(): Promise<{ recorded: ReturnType<typeof recordingReply>; req: ClientRequest; res: IncomingMessage }> {
    const recorded = recordingReply();
    const server = createServer((_req, res) => {
      res.writeHead(200, recorded.reply.headers);
      writeToNode(recorded.reply, res);
    });
    servers.push(server);
    server.listen(0);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const req = request({ port, path: '/' });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    return { recorded, req, res };
  }

  it(`cuts a client that leaves more than ${MAX_UNREAD_BYTES} bytes unread, and ends the stream`, async () => {
    const { recorded, req, res } = await served();
    // The client reads nothing more from here on.
    res.pause();
    res.on('error', () => {});
    req.on('error', () => {});
    const chunk = new Uint8Array(256 * 1024);
    let written = 0;
    // Writes until the server gives up on this client (the kernel's socket buffers fill first).
    while (recorded.closed() === 0 && written < 64 * MAX_UNREAD_BYTES) {
      recorded.sink().write(chunk);
      written += chunk.byteLength;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(recorded.closed()).toBe(1);
    req.destroy();
  });

  it('ends the response when the stream ends by itself', async () => {
    const { recorded, res } = await served();
    let body = '';
    res.setEncoding('utf8').on('data', (text: string) => (body += text));
    const ended = once(res, 'end');
    recorded.sink().write(new TextEncoder().encode('event: complete\ndata:\n\n'));
    recorded.sink().end();
    await ended;
    expect(body).toBe(':\n\nevent: complete\ndata:\n\n');
  });
});

describe('Heartbeat', () => {
  afterEach(() => vi.useRealTimers());

  it('beats every stream of an interval from one timer, until each is taken off', () => {
    vi.useFakeTimers();
    const beats = { a: 0, b: 0 };
    const heartbeat = new Heartbeat(1000);
    const stopA = heartbeat.add(() => void (beats.a += 1));
    const stopB = heartbeat.add(() => void (beats.b += 1));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(beats).toEqual({ a: 2, b: 2 });
    stopA();
    vi.advanceTimersByTime(1000);
    expect(beats).toEqual({ a: 2, b: 3 });
    stopB();
    expect(vi.getTimerCount()).toBe(0);
  });
});
