/**
 * Preloaded into bench/revocation-scale.ts's server instances
 * (`node --expose-gc --import ./bench/memory-probe.mjs dist/src/main.js`), never
 * into the product: on SIGUSR2 a full garbage collection, then
 * `process.memoryUsage()` written as JSON to BENCH_MEMORY_FILE. RSS alone
 * counts garbage not yet collected and heap the engine keeps for later; the
 * heap after a full collection is what each open stream really holds.
 * Plain JavaScript: the instances run the built server, as production does.
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  writeFileSync(process.env.BENCH_MEMORY_FILE ?? '/dev/null', JSON.stringify(process.memoryUsage()));
});
