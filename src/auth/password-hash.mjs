// Plain JavaScript on purpose: this module is also the password worker
// threads' entry (src/auth/password-pool.ts), and a worker must load it under
// every runtime we support without a TypeScript loader (tsx cannot hook
// worker threads on Node 20). Types: password-hash.d.mts. `npm run build`
// copies it into dist/.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * bcrypt reads only the first 72 bytes of its input, so two long passwords
 * sharing a prefix would both unlock the account. Hashing the password with
 * SHA-256 first (base64: 44 ASCII bytes, no NUL) keeps every byte significant.
 */
function preHash(password) {
  return createHash('sha256').update(password, 'utf8').digest('base64');
}

export function hashPassword(password, rounds) {
  return bcrypt.hash(preHash(password), rounds);
}

export function verifyPassword(password, hash) {
  return bcrypt.compare(preHash(password), hash);
}

// The worker-thread tasks, by name (Piscina's `run(task, { name })`).
export const hash = (task) => hashPassword(task.password, task.rounds);
export const verify = (task) => verifyPassword(task.password, task.hash);
