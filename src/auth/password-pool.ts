import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { hashPassword, verifyPassword } from './password-hash.mjs';

/**
 * Password hashing and checking for the resolvers. bcryptjs is pure
 * JavaScript: on the event loop, 50 concurrent logins held every other request
 * (even /health) for seconds. Here the work runs in a pool of worker threads,
 * one per core, at a lower CPU priority than the event loop, behind a bounded
 * queue: past the bound a sign-in is refused at once with SERVICE_UNAVAILABLE
 * and Retry-After, rather than waiting without end.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Checks a password against a stored hash. With no hash (an unknown email)
   * it compares against a dummy hash of the same cost and answers false, so
   * that the response time does not reveal which accounts exist.
   */
  verify(password: string, hash: string | null): Promise<boolean>;
  /**
   * Throws SERVICE_UNAVAILABLE now if a hash or check would be refused: lets a
   * sign-in fail before it spends a database read on a storm it cannot join.
   */
  checkCapacity(): void;
  /** Hashes and checks waiting for a free thread (the queue-depth metric). */
  readonly queued: number;
  close(): Promise<void>;
}

export interface PasswordPoolOptions {
  rounds: number;
  /** Worker threads; 0 hashes on the event loop (no pool). */
  threads: number;
  /** Sign-ins allowed to wait for a free thread; beyond it, SERVICE_UNAVAILABLE. */
  queueLimit: number;
  log: Logger;
  /** Told how long (seconds) each hash or check waited for a thread. */
  observeWait?: (seconds: number) => void;
}

/** The default pool size: one thread per core this process may use. */
export const defaultPasswordThreads = (): number => availableParallelism();

/** Sent with the 503: one bcrypt round of the whole queue is well under a second at the default cost. */
const RETRY_AFTER_SECONDS = 1;
// Workers yield to the event loop thread (Linux nice is per thread): hashing may wait a
// few milliseconds more, but /health and token checks never queue behind bcrypt.
const WORKER_NICE_INCREMENT = 10;

/**
 * The workers run password-hash.mjs, plain JavaScript beside this module in
 * src/ and in dist/ alike: the same file under tsx, vitest, `node dist/` and
 * Bun. The parent's flags (a TypeScript loader, --cpu-prof) are not passed on:
 * the workers need none of them.
 */
const WORKER_FILE = fileURLToPath(new URL('./password-hash.mjs', import.meta.url));

function inThreadHasher(rounds: number): PasswordHasher {
  const dummy = hashPassword(`dummy-${Math.random()}`, rounds);
  return {
    hash: (password) => hashPassword(password, rounds),
    verify: async (password, hash) => {
      const matches = await verifyPassword(password, hash ?? (await dummy));
      return hash !== null && matches;
    },
    checkCapacity: () => {},
    queued: 0,
    close: async () => {},
  };
}

/**
 * Starts the pool and computes the dummy hash in it, which proves the workers
 * load. If they cannot (an unusual runtime), hashing falls back to the event
 * loop with one warning: slower under load, never broken.
 */
export async function createPasswordHasher(options: PasswordPoolOptions): Promise<PasswordHasher> {
  const { rounds, threads, queueLimit, log, observeWait } = options;
  if (threads === 0) return inThreadHasher(rounds);
  const pool = new Piscina({
    filename: WORKER_FILE,
    execArgv: [],
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    niceIncrement: WORKER_NICE_INCREMENT,
  });
  // A worker that dies is replaced by the pool; unhandled, this event would end the process.
  pool.on('error', (error: unknown) => log.error({ err: error instanceof Error ? error.message : String(error) }, 'password worker failed'));
  let dummy: string;
  try {
    dummy = await pool.run({ password: `dummy-${Math.random()}`, rounds }, { name: 'hash' });
  } catch (error) {
    await pool.destroy().catch(() => {});
    log.warn({ err: error instanceof Error ? error.message : String(error) }, 'password worker threads unavailable: hashing on the event loop');
    return inThreadHasher(rounds);
  }

  // Counted here rather than read from the pool: what matters is work accepted and not yet answered.
  let inFlight = 0;
  const checkCapacity = (): void => {
    // Every thread busy and the queue full: refuse now, cheaply, instead of piling up.
    if (inFlight >= threads + queueLimit) {
      throw new AppError('SERVICE_UNAVAILABLE', 'Too many sign-ins at once: retry shortly', { retryAfter: RETRY_AFTER_SECONDS });
    }
  };
  // Tasks go to the pool only when a thread is free, the rest wait here in order: so the wait for a
  // thread is measured (Piscina reports it only as a summary of its own) and the queue's depth is known.
  let busy = 0;
  const waiting: Array<() => void> = [];
  const takeThread = async (): Promise<void> => {
    if (busy < threads) {
      busy += 1;
      return;
    }
    // The thread is handed over by `giveThread`, still counted busy.
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const giveThread = (): void => {
    const next = waiting.shift();
    if (next) next();
    else busy -= 1;
  };
  const run = async <R>(task: object, name: 'hash' | 'verify'): Promise<R> => {
    checkCapacity();
    inFlight += 1;
    const queuedAt = performance.now();
    try {
      await takeThread();
      observeWait?.((performance.now() - queuedAt) / 1000);
      try {
        return (await pool.run(task, { name })) as R;
      } finally {
        giveThread();
      }
    } finally {
      inFlight -= 1;
    }
  };
  return {
    hash: (password) => run<string>({ password, rounds }, 'hash'),
    verify: async (password, hash) => {
      const matches = await run<boolean>({ password, hash: hash ?? dummy }, 'verify');
      return hash !== null && matches;
    },
    checkCapacity,
    get queued() {
      return waiting.length;
    },
    close: () => pool.destroy(),
  };
}
