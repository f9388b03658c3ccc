import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * bcrypt reads only the first 72 bytes of its input, so two long passwords
 * sharing a prefix would both unlock the account. Hashing the password with
 * SHA-256 first (base64: 44 ASCII bytes, no NUL) keeps every byte significant.
 */
function preHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('base64');
}

export function hashPassword(password: string, rounds: number): Promise<string> {
  return bcrypt.hash(preHash(password), rounds);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(preHash(password), hash);
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * A hash of a random password at the configured cost. Login compares against
 * it when the email is unknown, so that an unknown email takes as long as a
 * wrong password and the response time does not reveal which accounts exist.
 */
export function dummyHash(rounds: number): Promise<string> {
  let hash = dummyHashes.get(rounds);
  if (!hash) {
    hash = hashPassword(`dummy-${Math.random()}-${Date.now()}`, rounds);
    dummyHashes.set(rounds, hash);
  }
  return hash;
}
