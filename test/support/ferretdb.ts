import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';

/** This checkout's FerretDB binary (built by test-infra/ferretdb/run.sh build, which the global setup runs). */
const BINARY = resolve(process.env.FERRETDB_TEST_BIN ?? fileURLToPath(new URL('../../test-infra/ferretdb/bin/ferretdb-test', import.meta.url)));

/**
 * A private FerretDB for tests that stop the database in the middle of
 * something: killed and started again on the same port and data directory,
 * so what was written before the stop is there after it. Over SQLite, not
 * the run's PostgreSQL: a SIGKILLed server keeps its data in its directory
 * for the restart to find, holds no PostgreSQL connections, and its few
 * documents make SQLite's full scans cheap.
 */
export interface OwnFerretDb {
  uri: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * SIGSTOP: the process stays, its sockets stay open, and nothing is answered
   * (a database that hangs, not one that is gone). Synchronous, so a test can
   * pause it from inside a driver event, between two commands.
   */
  pause(): void;
  /** SIGCONT after `pause`: it answers again, starting with what waited meanwhile. */
  resume(): void;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

export async function startOwnFerretDb(): Promise<OwnFerretDb> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'la-ferretdb-'));
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const proc = spawn(BINARY, ['-listen', `127.0.0.1:${port}`, '-dir', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'ignore'] });
    child = proc;
    await new Promise<void>((ready, fail) => {
      let out = '';
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready ')) ready();
      });
      proc.once('error', fail);
      proc.once('exit', (code) => fail(new Error(`ferretdb-test exited (${code}) before it was ready`)));
    });
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((done) => {
      proc.once('exit', () => done());
      proc.kill('SIGKILL');
    });
  };
  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
    if (!child || child.exitCode !== null) throw new Error('ferretdb-test is not running');
    child.kill(name);
  };
  await start();
  return {
    uri: `mongodb://127.0.0.1:${port}/la_own`,
    start,
    stop,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
