import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import mongoose from 'mongoose';

export { freePort } from '../test/support/redis-server.js';

/** A server the benchmark started in its own process. */
export interface Started {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * MONGODB_URI and REDIS_URL of the run (or exit with a hint), and a throwaway
 * database on that server; `drop()` removes it.
 */
export function benchTarget(prefix: string): { database: string; redisUrl: string; drop(): Promise<void> } {
  const mongoUri = process.env.MONGODB_URI;
  const redisUrl = process.env.REDIS_URL;
  if (!mongoUri || !redisUrl) {
    console.error('bench: set MONGODB_URI and REDIS_URL');
    process.exit(2);
  }
  const url = new URL(mongoUri);
  url.pathname = `/${prefix}_${Date.now()}`;
  const database = url.toString();
  return {
    database,
    redisUrl,
    async drop() {
      const connection = await mongoose.createConnection(database).asPromise().catch(() => null);
      await connection?.dropDatabase().catch(() => {});
      await connection?.close();
    },
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Forks `script` with PORT set and waits until it answers HTTP on that port
 * (any status). stdout goes to `logFile` (or nowhere), stderr to ours.
 */
export async function startProcess(options: {
  name: string;
  script: string;
  args?: string[];
  typescript: boolean;
  port: number;
  env: Record<string, string>;
  logFile?: string;
}): Promise<Started> {
  const out = options.logFile ? openSync(options.logFile, 'w') : 'ignore';
  const child = fork(options.script, options.args ?? [], {
    execArgv: options.typescript ? ['--import', tsxLoader] : [],
    env: { ...process.env, ...options.env, PORT: String(options.port) },
    stdio: ['ignore', out, 'inherit', 'ipc'],
  });
  if (typeof out === 'number') closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode} before listening`);
    const up = await fetch(`http://127.0.0.1:${options.port}/health`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`${options.name} did not listen within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name: options.name,
    child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
