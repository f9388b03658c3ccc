import { describe, expect, it } from 'vitest';
import { MAX_DELAY_MS, retryDelayMs } from './delivery.js';

describe('retryDelayMs()', () => {
  it('doubles from the base with the second half random, and never waits past the cap', () => {
    for (let attempts = 1; attempts <= 40; attempts += 1) {
      const full = Math.min(MAX_DELAY_MS, 5_000 * 2 ** (attempts - 1));
      for (let i = 0; i < 20; i += 1) {
        const delay = retryDelayMs(5_000, attempts);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }
    }
  });
});
