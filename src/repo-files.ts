import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The absolute path of a file that ships beside the code (public/devices.html,
 * test-infra/ferretdb/run.sh), found by walking up from this module: the same
 * answer from src/ under tsx, from dist/src/ once compiled, and from the
 * folder this module may be moved to.
 */
export function findRepoFile(relativePath: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
