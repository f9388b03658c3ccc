/**
 * The server of bench/login-storm.ts and bench/signin-flood.ts: the app as
 * src/main.ts builds it, plus an event-loop delay monitor the parent reads
 * over IPC ('reset', 'report'), and ('memory', with --expose-gc) its memory
 * after full collections.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createHttpServer, httpTimeouts } from '../src/http/node-server.js';
import { createApp } from '../src/server.js';
import { createServices } from '../src/services.js';

const services = await createServices(loadConfig());
const server = createHttpServer(createApp(services), httpTimeouts(services.config));
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
server.listen(Number(process.env.PORT), '127.0.0.1');

/**
 * Memory once everything unreachable is freed: two full collections with a
 * turn of the event loop between them, as objects behind weak references and
 * finalizers (the fetch adapter's, Node's abort signals) go only with the
 * collection after the one that found them unreachable. (On Node 20, one
 * `gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })` left 40 MB
 * here that this frees.)
 */
async function collectedMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  return process.memoryUsage();
}

process.on('message', (message: string) => {
  if (message === 'reset') delay.reset();
  if (message === 'report') {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    process.send?.({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) });
  }
  if (message === 'memory') void collectedMemory().then((usage) => process.send?.({ memory: usage }));
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void services.close().then(() => process.exit(0)));
});
