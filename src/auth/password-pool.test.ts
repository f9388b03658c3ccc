import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createPasswordHasher, type PasswordHasher } from './password-pool.js';

const log = pino({ level: 'silent' });
const opened: PasswordHasher[] = [];
afterAll(() => Promise.all(opened.map((h) => h.close())));

async function hasher(threads: number, queueLimit = 10, rounds = 4): Promise<PasswordHasher> {
  const created = await createPasswordHasher({ rounds, threads, queueLimit, log });
  opened.push(created);
  return created;
}

// The pool (worker threads, loaded through tsx here) and the in-thread fallback keep one contract.
describe.each([
  ['worker threads', 2],
  ['the event loop', 0],
])('createPasswordHasher() on %s', (_name, threads) => {
  it('hashes, checks, and answers false for an unknown email after paying for a comparison', async () => {
    const passwords = await hasher(threads);
    const hash = await passwords.hash('correct horse battery');
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await passwords.verify('correct horse battery', hash)).toBe(true);
    expect(await passwords.verify('correct horse batterY', hash)).toBe(false);
    expect(await passwords.verify('correct horse battery', null)).toBe(false);
  });
});

describe('the password pool bound', () => {
  it('refuses work at once with SERVICE_UNAVAILABLE and a retry delay when every thread is busy and the queue is full', async () => {
    // One thread, no queue, a cost that keeps the thread busy while the next calls arrive.
    const passwords = await hasher(1, 0, 12);
    const first = passwords.hash('one password');
    const refused = await passwords.hash('another password').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 1 });
    expect(await first).toMatch(/^\$2[aby]\$12\$/);
    // Free again once the work is done.
    expect(await passwords.verify('one password', await first)).toBe(true);
  });
});
