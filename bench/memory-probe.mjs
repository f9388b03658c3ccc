/**
 * Preloaded into bench/revocation-scale.ts's server instances
 * (`node --expose-gc --import ./bench/memory-probe.mjs dist/src/main.js`), never
 * into the product: on SIGUSR2 V8's last-resort collection, then
 * `process.memoryUsage()` written as JSON to BENCH_MEMORY_FILE.
 *
 * Why last-resort and not a plain full collection: a plain one leaves the
 * young generation at the size V8 grew it to while the streams opened (up to
 * about 100 MB per instance, measured with v8.getHeapSpaceStatistics), and
 * leaves freed heap pages mapped. That is memory V8 gives back by itself
 * under pressure, not memory the streams hold; the last-resort collection
 * (the one V8 runs before it would report out of memory) gives it back, so
 * RSS counts what is really held. bench/stream-floor.ts collects the same way.
 * It runs twice, an event-loop turn apart: objects whose last reference was a
 * pending callback or a weak callback's queue are only collectable after that
 * turn (one collection left about 40 MB on Node 20 that the second frees).
 * Plain JavaScript: the instances run the built server, as production does.
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const collect = () => globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });

process.on('SIGUSR2', () => {
  collect();
  setImmediate(() => {
    collect();
    writeFileSync(process.env.BENCH_MEMORY_FILE ?? '/dev/null', JSON.stringify(process.memoryUsage()));
  });
});
