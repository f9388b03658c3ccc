import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { LINGER_MAX_BYTES } from '../src/http/body-limit.js';
import { useTestServer } from './support/server.js';

const run = promisify(execFile);

/** 5 MB of JSON: far over the 100 kB limit, and more than a socket buffers, so the client is still writing when the answer comes. */
const FIVE_MB = JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(5 * 1024 * 1024) });
const TRIES = 20;

/** A fetch client: POSTs the file's bytes to the URL, TRIES times, one after the other; prints each answer's status and code, or the failure. */
const FETCH_CLIENT = `
const [url, file, tries] = process.argv.slice(1);
const body = (await import('node:fs')).readFileSync(file);
const answers = [];
for (let i = 0; i < Number(tries); i += 1) {
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = await response.json();
    answers.push({ status: response.status, code: json.error?.code ?? json.errors?.[0]?.extensions?.code });
  } catch (error) {
    answers.push({ failed: String(error.cause?.code ?? error.message) });
  }
}
process.stdout.write(JSON.stringify(answers));
`;

/** The contract's code, from either API's error shape. */
const codeOf = (body: unknown): string | undefined => {
  const shaped = body as { error?: { code?: string }; errors?: Array<{ extensions?: { code?: string } }> };
  return shaped.error?.code ?? shaped.errors?.[0]?.extensions?.code;
};

describe('an oversized body gets its 413, whatever the client', () => {
  const server = useTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'logout-all-413-'));
  const file = join(dir, 'body.json');
  writeFileSync(file, FIVE_MB);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const path of ['/api/auth/login', '/graphql']) {
    it(`fetch, from another process, reads the 413 on ${path} every time (the server drains the rest of the body before it closes)`, async () => {
      // Another process, as a real client is: in this one, the client's writes and the server's close take turns on one event loop.
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', FETCH_CLIENT, `${server.url}${path}`, file, String(TRIES)], { maxBuffer: 1024 * 1024 });
      const answers = JSON.parse(stdout) as Array<{ status: number; code?: string } | { failed: string }>;
      expect(answers).toEqual(Array.from({ length: TRIES }, () => ({ status: 413, code: 'PAYLOAD_TOO_LARGE' })));
    });

    it(`fetch in this process reads the 413 on ${path}`, async () => {
      const body = new TextEncoder().encode(FIVE_MB);
      for (let i = 0; i < 3; i += 1) {
        const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response.status).toBe(413);
        expect(codeOf(await response.json())).toBe('PAYLOAD_TOO_LARGE');
      }
    });

    it(`fetch reads the 413 on ${path} for a chunked body (no Content-Length: counted as it arrives)`, async () => {
      for (let i = 0; i < 3; i += 1) {
        const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= 5 * 1024 * 1024) controller.close();
            else {
              sent += chunk.length;
              controller.enqueue(chunk);
            }
          },
        });
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: stream,
          duplex: 'half',
        } as RequestInit);
        expect(response.status).toBe(413);
        expect(codeOf(await response.json())).toBe('PAYLOAD_TOO_LARGE');
      }
    });

    it(`curl reads the 413 on ${path}`, async () => {
      for (let i = 0; i < 3; i += 1) {
        const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', '-H', 'content-type: application/json', '--data-binary', `@${file}`, `${server.url}${path}`]);
        const [body, status] = stdout.split(/\n(?=\d{3}$)/);
        expect(status).toBe('413');
        expect(codeOf(JSON.parse(body!))).toBe('PAYLOAD_TOO_LARGE');
      }
    });
  }

  it('cuts a body that never ends, once it has drained its bound: no client holds a connection by sending forever', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    // The server's side of the connection, and its end.
    const closed = new Promise<number>((resolve) => server.http.once('connection', (socket: Socket) => socket.once('close', () => resolve(socket.bytesRead))));
    const answer = fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: endless, duplex: 'half' } as RequestInit).then(
      (response) => response.status,
      () => 'cut',
    );
    expect([413, 'cut']).toContain(await answer);
    // The server read its bound (LINGER_MAX_BYTES) or for LINGER_MAX_MS, then cut the connection.
    expect(await closed).toBeLessThanOrEqual(LINGER_MAX_BYTES + 4 * 1024 * 1024);
    expect(sent).toBeGreaterThan(0);
  });
});
