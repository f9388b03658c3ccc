import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../src/config.js';

const OPERATIONS = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');

/** The variables named in the first column of docs/operations.md's configuration table. */
function documented(): string[] {
  const table = OPERATIONS.slice(OPERATIONS.indexOf('## Configuration'), OPERATIONS.indexOf('\n## ', OPERATIONS.indexOf('## Configuration') + 1));
  return [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
}

describe('the configuration table of docs/operations.md', () => {
  it('documents every variable the server reads, and none it does not', () => {
    expect([...documented()].sort()).toEqual([...SETTING_NAMES].sort());
  });
});
