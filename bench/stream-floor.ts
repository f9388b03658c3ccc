/**
 * The floor under "memory per open stream": bare `node:http` holding K
 * event-stream responses open and nothing else, with the server's own
 * timeouts (src/http/node-server.ts). Run with `--expose-gc`:
 *
 *   npx tsx --expose-gc bench/stream-floor.ts [K]
 *
 * The clients are a child process, so that their sockets are not counted.
 * Printed: RSS and heap per connection after V8's last-resort collection
 * (as bench/memory-probe.mjs collects), over all K, from K/2
 * to K, and warmed up (all closed, then K again), as
 * bench/revocation-scale.ts's `idle` scenario prints them for
 * this project's streams (that scenario runs this too, as its baseline).
 */
import { fork } from 'node:child_process';
import { request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createHttpServer, httpTimeouts } from '../src/http/node-server.js';

const K = process.argv[2] === '--clients' ? 0 : Number(process.argv[2] ?? 5000);

/** Per connection, in kB. */
export interface FloorReading {
  rss: number;
  heap: number;
}
/** Over all K connections, from K/2 to K, and warmed up (all closed, then K again). */
export interface Floor {
  overAll: FloorReading;
  secondHalf: FloorReading;
  warm: FloorReading;
}

async function clients(port: number): Promise<void> {
  const open: unknown[] = [];
  process.on('message', async (count: number | 'exit' | 'close') => {
    if (count === 'exit') process.exit(0);
    if (count === 'close') {
      for (const req of open.splice(0) as Array<{ destroy(): void }>) req.destroy();
      process.send?.('closed');
      return;
    }
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () =>
          new Promise<void>((resolve, reject) => {
            const req = request({ port, path: '/', agent: false, headers: { accept: 'text/event-stream', authorization: `Bearer ${'x'.repeat(200)}` } });
            req.on('response', (res) => res.once('data', () => resolve()));
            req.on('error', reject);
            req.end();
            open.push(req);
          }),
        ),
      );
    }
    process.send?.('open');
  });
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: (options: object) => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  // As bench/memory-probe.mjs collects in the server instances (why: there).
  const collect = (): void => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  const held: ServerResponse[] = [];
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(': connected\n\n');
    held.push(res);
  }, httpTimeouts(loadConfig({})));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const child = fork(fileURLToPath(import.meta.url), ['--clients', String(port)], { execArgv: ['--import', 'tsx'] });
  const memory = async (): Promise<NodeJS.MemoryUsage> => {
    collect();
    await sleep(300);
    collect();
    return process.memoryUsage();
  };
  const openMore = async (count: number): Promise<NodeJS.MemoryUsage> => {
    child.send(count);
    await new Promise((resolve) => child.once('message', resolve));
    await sleep(1000);
    return memory();
  };
  const none = await memory();
  const half = await openMore(Math.floor(K / 2));
  const all = await openMore(K - Math.floor(K / 2));
  // Warmed up: all closed, then K again.
  child.send('close');
  await new Promise((resolve) => child.once('message', resolve));
  await sleep(2000);
  held.length = 0;
  const closed = await memory();
  const again = await openMore(K);
  const kB = (bytes: number, count: number): number => Number((bytes / 1024 / count).toFixed(1));
  const reading = (from: NodeJS.MemoryUsage, to: NodeJS.MemoryUsage, count: number): FloorReading => ({
    rss: kB(to.rss - from.rss, count),
    heap: kB(to.heapUsed - from.heapUsed, count),
  });
  const floor: Floor = {
    overAll: reading(none, all, K),
    secondHalf: reading(half, all, K - Math.floor(K / 2)),
    warm: reading(closed, again, K),
  };
  if (process.env.STREAM_FLOOR_JSON) {
    // For bench/revocation-scale.ts, which compares its streams with this floor, reading by reading.
    console.log(JSON.stringify(floor));
  } else console.log(
    `bare node:http, ${K} open event-stream responses, Node ${process.version}: per connection over all ${K}: RSS ${floor.overAll.rss} kB, heap ${floor.overAll.heap} kB;` +
      ` from ${Math.floor(K / 2)} to ${K}: RSS ${floor.secondHalf.rss} kB, heap ${floor.secondHalf.heap} kB;` +
      ` all closed, then ${K} again: RSS ${floor.warm.rss} kB, heap ${floor.warm.heap} kB (${held.length} held)`,
  );
  child.send('exit');
  server.closeAllConnections();
  server.close();
}

if (process.argv[2] === '--clients') void clients(Number(process.argv[3]));
else void main();
