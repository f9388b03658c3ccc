import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAKEFILE = fileURLToPath(new URL('../Makefile', import.meta.url));

/** `make TARGET` in a scratch folder, on a PATH whose `docker` has no compose plugin. */
function make(dir: string, target: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'make',
      ['--no-print-directory', '-f', MAKEFILE, target],
      { cwd: dir, env: { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('the Docker targets where Docker has no Compose plugin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logout-all-make-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // What Docker without the compose plugin answers to `docker compose ...`.
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'docker'), "#!/bin/sh\necho \"unknown shorthand flag: 'f' in -f\" >&2\nexit 125\n");
  chmodSync(join(dir, 'bin', 'docker'), 0o755);

  for (const target of ['backend', 'compose-config']) {
    it(`make ${target} says what to install, and writes no .env`, async () => {
      const { code, output } = await make(dir, target);
      expect(code).not.toBe(0);
      expect(output).toContain('Docker Compose v2 is needed');
      expect(output).not.toContain('unknown shorthand flag');
      expect(existsSync(join(dir, '.env'))).toBe(false);
    });
  }
});
