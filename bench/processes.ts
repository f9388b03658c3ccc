import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** A server the benchmark started in its own process. */
export interface Started {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
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
