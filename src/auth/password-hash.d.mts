/** SHA-256 pre-hash, then bcrypt at `rounds` (see password-hash.mjs for why). */
export function hashPassword(password: string, rounds: number): Promise<string>;
export function verifyPassword(password: string, hash: string): Promise<boolean>;

/** Worker-thread tasks (src/auth/password-pool.ts). */
export function hash(task: { password: string; rounds: number }): Promise<string>;
export function verify(task: { password: string; hash: string }): Promise<boolean>;
