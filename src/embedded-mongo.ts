import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { findRepoFile } from './repo-files.js';

/**
 * A MongoDB-wire server started by this process, for development and tests
 * when MONGODB_URI is not set. Nothing here runs in production (config.ts
 * requires MONGODB_URI there).
 *
 * Order of preference, because most machines cannot download a `mongod`:
 *  1. FerretDB, the server CI uses (test-infra/ferretdb), built with Go from
 *     the Go module proxy on first use and reused afterwards: over SQLite, or
 *     for a test run over PostgreSQL where it is reachable (`ferretdbHandler`);
 *  2. mongodb-memory-server, which downloads a `mongod` binary on first use;
 *  3. neither: one error line naming the ways out.
 */
export interface EmbeddedMongo {
  uri: string;
  /** One line for the operator: which server, and where its data lives. */
  description: string;
  stop(): Promise<void>;
}

export interface EmbeddedMongoOptions {
  /** Keep the data here across restarts (`npm run dev`); a throwaway directory when absent (tests). */
  dataDir?: string;
  /** Progress lines (the first FerretDB build takes a while). */
  say: (line: string) => void;
  /** Where test-infra/ferretdb lives (default: found from this module; tests point elsewhere). */
  repoRoot?: string;
  /**
   * FerretDB's storage: 'sqlite' (the default: in `dataDir`, else a throwaway
   * directory); 'postgresql', a database of its own on the local PostgreSQL
   * (FERRETDB_POSTGRESQL_URL), dropped when the server stops; or 'auto', that
   * where PostgreSQL is reachable with room for FerretDB's connections, SQLite
   * otherwise (FerretDB over SQLite scans a whole collection for any filter
   * other than `_id`).
   */
  ferretdbHandler?: FerretDbHandler;
}

export const FERRETDB_HANDLERS = ['sqlite', 'postgresql', 'auto'] as const;
export type FerretDbHandler = (typeof FERRETDB_HANDLERS)[number];

export class EmbeddedMongoError extends Error {
  override name = 'EmbeddedMongoError';
}

/** The repository root: where test-infra/ lives. */
function findRepoRoot(): string | undefined {
  const runSh = findRepoFile(join('test-infra', 'ferretdb', 'run.sh'));
  return runSh && dirname(dirname(dirname(runSh)));
}

/** First line of an error, for one-line messages. */
function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Runs `run.sh build`: a no-op when the binary is newer than its sources, else `go build -v` with progress. */
function buildFerretDB(root: string, say: (line: string) => void): Promise<string> {
  const runSh = join(root, 'test-infra', 'ferretdb', 'run.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [runSh, 'build'], {
      cwd: root,
      env: { ...process.env, FERRETDB_BUILD_VERBOSE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const tail: string[] = [];
    let compiled = 0;
    let announced = false;
    createInterface({ input: child.stderr! }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 5) tail.shift();
      if (line.startsWith('run.sh: building')) {
        announced = true;
        say('embedded MongoDB: building FerretDB with Go (first run only; later runs reuse the binary)...');
      } else if (line.startsWith('go: downloading')) {
        say(`  ${line}`);
      } else if (announced && !line.startsWith('run.sh:') && !line.includes(' ')) {
        // `go build -v` prints one package path per line as it compiles.
        compiled += 1;
        if (compiled % 50 === 0) say(`  compiled ${compiled} packages...`);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(join(root, 'test-infra', 'ferretdb', 'bin', 'ferretdb-test'));
      else reject(new Error(tail.filter((line) => line.trim() !== '').at(-1) ?? `run.sh build exited with ${code}`));
    });
  });
}

interface LaunchedFerretDB {
  uri: string;
  /** The storage, as the binary names it: `SQLite`, `PostgreSQL (database … at …)`, or SQLite and why not PostgreSQL. */
  over: string;
  child: ChildProcess;
}

/** Starts the FerretDB binary on a free loopback port and waits for its `over …` and `ready <uri>` lines. */
function launchFerretDB(binary: string, dataDir: string | undefined, handler: FerretDbHandler): Promise<LaunchedFerretDB> {
  // -exit-with-stdin: the server goes when this process goes, even on SIGKILL
  // (the pipe closes), and takes its PostgreSQL database with it.
  const args = [
    '-listen', '127.0.0.1:0', '-exit-with-stdin',
    ...(dataDir ? ['-dir', dataDir] : []),
    ...(handler === 'sqlite' ? [] : ['-handler', handler, '-postgresql-throwaway']),
  ];
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let over = 'SQLite';
  return new Promise((resolve, reject) => {
    const errors: string[] = []; // the last few log lines, to explain an early exit
    createInterface({ input: child.stderr! }).on('line', (line) => {
      errors.push(line);
      if (errors.length > 5) errors.shift();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('over ')) over = line.slice('over '.length);
      const ready = /^ready (\S+)/.exec(line);
      if (ready?.[1]) resolve({ uri: ready[1], over, child });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(errors.at(-1) ?? `ferretdb exited with ${code}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

async function startFerretDB(root: string, options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const binary = await buildFerretDB(root, options.say);
  const dataDir = options.dataDir && join(options.dataDir, 'ferretdb');
  const { uri, over, child } = await launchFerretDB(binary, dataDir, options.ferretdbHandler ?? 'sqlite');
  const where = dataDir ? `data in ${relative(process.cwd(), dataDir) || dataDir}/ until \`make clean\`` : 'throwaway data';
  return {
    uri,
    description: `MONGODB_URI not set: using embedded FerretDB at ${uri}, MongoDB wire protocol over ${over}, ${where}`,
    stop: () => stopChild(child),
  };
}

async function startMemoryServer(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  // mongodb-memory-server prints its own multi-line stack on failure; the
  // caller's one line says the same and names the fix, so mute it meanwhile.
  const consoleWarn = console.warn;
  console.warn = () => {};
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const dbPath = options.dataDir && join(options.dataDir, 'mongodb-memory-server');
    if (dbPath) await import('node:fs/promises').then((fs) => fs.mkdir(dbPath, { recursive: true }));
    const server = await MongoMemoryServer.create(
      dbPath ? { instance: { dbPath, storageEngine: 'wiredTiger' } } : {},
    );
    const where = dbPath ? `data in ${relative(process.cwd(), dbPath) || dbPath}/ until \`make clean\`` : 'throwaway data';
    return {
      uri: server.getUri(),
      description: `MONGODB_URI not set: using embedded mongodb-memory-server at ${server.getUri()}, ${where}`,
      stop: async () => void (await server.stop({ doCleanup: !dbPath })),
    };
  } finally {
    console.warn = consoleWarn;
  }
}

/** Starts the first embedded server that works; throws one line naming the options when none does. */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const root = options.repoRoot ?? findRepoRoot();
  let ferretProblem = 'test-infra/ferretdb not found';
  if (root) {
    try {
      return await startFerretDB(root, options);
    } catch (error) {
      ferretProblem = reasonOf(error);
      options.say(`embedded MongoDB: FerretDB unavailable (${ferretProblem}); trying mongodb-memory-server`);
    }
  }
  try {
    return await startMemoryServer(options);
  } catch (error) {
    throw new EmbeddedMongoError(
      `MONGODB_URI is not set and no embedded MongoDB could start (FerretDB: ${ferretProblem}; ` +
        `mongodb-memory-server: ${reasonOf(error)}). Install Go >= 1.24 (FerretDB is built from the Go module proxy), ` +
        'set MONGODB_URI to a running MongoDB, or run `make backend` to start one with Docker.',
    );
  }
}
