/**
 * The body of a password worker thread (src/password-pool.ts): bcrypt work
 * moved off the event loop. Exports one function per task name.
 */
import { hashPassword, verifyPassword } from './password.js';

export function hash(task: { password: string; rounds: number }): Promise<string> {
  return hashPassword(task.password, task.rounds);
}

export function verify(task: { password: string; hash: string }): Promise<boolean> {
  return verifyPassword(task.password, task.hash);
}
