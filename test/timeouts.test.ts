import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpTimeouts } from '../src/http/node-server.js';

/**
 * The server's header and body timeouts hold to within the connection sweep
 * (a tenth of the header timeout, at most a second), not Node's default 30 s
 * sweep on top. Short limits here so the test waits for the cut, never sleeps.
 */
describe('a stalled client is cut within the configured timeouts', () => {
  const timeouts: HttpTimeouts = { headersMs: 400, requestMs: 900, keepAliveMs: 5_000 };
  const sweepMs = 40;
  // Generous for a loaded CI machine, and still far below Node's 30 s default sweep.
  const slackMs = 1_500;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // Answers once the whole body is in, as the app does.
    server = createHttpServer((req, res) => req.resume().on('end', () => res.end('ok')), timeouts);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Sends `data`, then nothing: resolves when the server closes, with what it answered and when. */
  function stall(data: string): Promise<{ answer: string; elapsedMs: number }> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      let answer = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(data));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve({ answer, elapsedMs: performance.now() - started }));
    });
  }

  it('within the header timeout for a client that never finishes its headers', async () => {
    const { answer, elapsedMs } = await stall('GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(elapsedMs).toBeGreaterThanOrEqual(timeouts.headersMs - 50);
    expect(elapsedMs).toBeLessThan(timeouts.headersMs + sweepMs + slackMs);
  });

  it('within the request timeout for a client that never finishes its body', async () => {
    const { answer, elapsedMs } = await stall('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"a":');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(elapsedMs).toBeGreaterThanOrEqual(timeouts.requestMs - 50);
    expect(elapsedMs).toBeLessThan(timeouts.requestMs + sweepMs + slackMs);
  });
});
