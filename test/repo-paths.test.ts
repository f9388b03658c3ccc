import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every file git knows of (tracked, or new and not ignored), as a new clone would have it. */
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file !== '' && existsSync(`${ROOT}${file}`));

/** A repository path as comments and docs write it: a top-level folder of ours, then segments, ending in a file name. */
const PATH = /(?<![\w./-])((?:src|test|bench|rest-compat|docs|scripts|test-infra|public|examples|\.ci)\/[\w./-]*\w(?:\.\w+)?)/g;

/** The paths a text names, with the line each is on. */
function namedPaths(text: string): Array<{ path: string; line: number }> {
  const found: Array<{ path: string; line: number }> = [];
  for (const [index, line] of text.split('\n').entries()) {
    for (const match of line.matchAll(PATH)) found.push({ path: match[1]!.replace(/[.:,)]+$/, ''), line: index + 1 });
  }
  return found;
}

/** Comments of a source file (line and block), where a reader follows a path. */
function comments(source: string): string {
  return source
    .split('\n')
    .map((line) => {
      const at = line.search(/\/\/|\/\*|^\s*\*/);
      return at === -1 ? '' : line.slice(at);
    })
    .join('\n');
}

function isIgnored(path: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', path], { cwd: ROOT });
    return true;
  } catch {
    return false;
  }
}

const SOURCE = /\.(ts|mts|mjs|js)$/;
const PROSE = /\.md$/;

describe('paths named in comments and docs', () => {
  it('all exist in the repository (a file moved or removed leaves no comment pointing at it)', () => {
    const known = new Set(files);
    const folders = new Set(files.flatMap((file) => file.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    const missing: string[] = [];
    for (const file of files) {
      if (!SOURCE.test(file) && !PROSE.test(file)) continue;
      // This file's own examples of the pattern are not references.
      if (file === 'test/repo-paths.test.ts') continue;
      const text = readFileSync(`${ROOT}${file}`, 'utf8');
      for (const { path, line } of namedPaths(SOURCE.test(file) ? comments(text) : text)) {
        // A glob or a placeholder (`src/**/*.ts`, `test/gql/`) names a pattern, not a file.
        if (path.includes('*') || path.includes('<')) continue;
        const bare = path.replace(/\/$/, '');
        if (known.has(bare) || folders.has(bare)) continue;
        // `src/foo.js` in a comment means the TypeScript source, as the imports do.
        if (known.has(bare.replace(/\.js$/, '.ts'))) continue;
        // What the project writes at run time (test/artifacts/, .data/) is ignored by git, not missing.
        if (isIgnored(bare)) continue;
        missing.push(`${file}:${line}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
