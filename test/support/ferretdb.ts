import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './redis-server.js';

/** The test-infra FerretDB binary (built by test-infra/ferretdb/run.sh build). */
const BINARY = resolve(process.env.FERRETDB_TEST_BIN ?? '/work/main/test-infra/ferretdb/bin/ferretdb-test');

/**
 * A private FerretDB for tests that stop the database in the middle of
 * something: killed and started again on the same port and data directory,
 * so what was written before the stop is there after it.
 */
export interface OwnFerretDb {
  uri: string;
  stop(): Promise<void>;
  start(): Promise<void>;
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
  await start();
  return {
    uri: `mongodb://127.0.0.1:${port}/la_own`,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
