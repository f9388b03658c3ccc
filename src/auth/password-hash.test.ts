import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password-hash.mjs';

describe('hashPassword()', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery', 4);
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
  });

  it('keeps every byte of a password longer than bcrypt\'s 72-byte limit significant', async () => {
    const prefix = 'p'.repeat(72);
    const hash = await hashPassword(`${prefix}-one`, 4);
    expect(await verifyPassword(`${prefix}-one`, hash)).toBe(true);
    expect(await verifyPassword(`${prefix}-two`, hash)).toBe(false);
    expect(await verifyPassword(prefix, hash)).toBe(false);
  });

  it('handles multi-byte characters past 72 bytes', async () => {
    const prefix = 'é'.repeat(40); // 80 bytes
    const hash = await hashPassword(`${prefix}a`, 4);
    expect(await verifyPassword(`${prefix}b`, hash)).toBe(false);
  });
});
