/**
 * Server instances for benchmarks, built and started as production runs them
 * (`npm run build`, then `node dist/src/main.js`, NODE_ENV=production; `tsx`
 * would add a `name` property to every named closure, which at thousands of
 * streams shows in the memory figures), each in its own process, with
 * bench/memory-probe.mjs preloaded to read its memory after V8's last-resort
 * collection.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/support/redis-server.js';
import type { Floor } from './stream-floor.js';

export interface Instance {
  url: string;
  port: number;
  child: ChildProcess;
  /** Where bench/memory-probe.mjs writes the instance's memory use. */
  memoryFile: string;
}

/** Builds the server (dist/) the instances run. */
export function buildServer(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}

/**
 * Starts one instance of the built server on a free port and waits for its
 * /health. `env` comes on top of the benchmark's settings: one JWT secret for
 * every instance, cheap bcrypt, errors-only logs, sign-in rate limits out of
 * the way (every client is 127.0.0.1); the caps stay at their defaults unless
 * `env` sets them.
 *
 * BENCH_CPU_PROF=dir writes each instance's CPU profile there (where the time
 * goes); BENCH_NODE_FLAGS adds node flags (to try V8 settings such as
 * --max-semi-space-size=4).
 */
export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const memoryFile = `/tmp/logout-all-bench-memory-${process.pid}-${name}.json`;
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...flags, '--expose-gc', '--import', './bench/memory-probe.mjs', 'dist/src/main.js'], {
    env: {
      ...process.env,
      BENCH_MEMORY_FILE: memoryFile,
      NODE_ENV: 'production',
      PORT: String(port),
      SERVER_ID: name,
      JWT_SECRET: 'bench-secret-shared-by-every-instance-0123',
      BCRYPT_ROUNDS: '4',
      LOG_LEVEL: 'error',
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_ACCOUNT: '1000000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const instance = { url: `http://127.0.0.1:${port}`, port, child, memoryFile };
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening`);
    try {
      if ((await fetch(`${instance.url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) {
      await stopInstance(instance);
      throw new Error(`${name} did not start`);
    }
    await sleep(100);
  }
  return instance;
}

/** SIGTERM, and SIGKILL if it has not exited 10 s later. */
export async function stopInstance(instance: Instance): Promise<void> {
  const { child } = instance;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(10_000, false)])) === false) {
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(instance.memoryFile, { force: true });
}

/** kB. `heap`: V8's heap in use, plus memory outside it that JavaScript objects hold. */
export interface Memory {
  rss: number;
  heap: number;
}

/** The instance's memory after V8's last-resort collection (bench/memory-probe.mjs), in kB. */
export async function collectedMemory(instance: Instance): Promise<Memory> {
  rmSync(instance.memoryFile, { force: true });
  instance.child.kill('SIGUSR2');
  for (let attempt = 0; !existsSync(instance.memoryFile); attempt += 1) {
    if (attempt > 200) throw new Error('no memory report from the instance');
    await sleep(50);
  }
  await sleep(50);
  const usage = JSON.parse(readFileSync(instance.memoryFile, 'utf8')) as NodeJS.MemoryUsage;
  return { rss: usage.rss / 1024, heap: (usage.heapUsed + usage.external + usage.arrayBuffers) / 1024 };
}

/**
 * Bare `node:http` holding `connections` event-stream responses open, measured
 * as collectedMemory measures an instance (bench/stream-floor.ts, in a process
 * of its own): the floor under an instance's memory per stream.
 */
export function bareNodeFloor(connections: number): Floor {
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/stream-floor.ts', String(connections)], {
    env: { ...process.env, STREAM_FLOOR_JSON: '1' },
    timeout: 300_000,
  });
  return JSON.parse(output.toString()) as Floor;
}
