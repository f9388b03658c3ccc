/**
 * The server of bench/login-storm.ts: the app as src/main.ts builds it, plus
 * an event-loop delay monitor the parent reads over IPC ('reset', 'report').
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

process.on('message', (message: string) => {
  if (message === 'reset') delay.reset();
  if (message === 'report') {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    process.send?.({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) });
  }
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void services.close().then(() => process.exit(0)));
});
