import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
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

/** Ignored by git, as a file or (not created yet: `test/artifacts/` before any browser test ran) as a folder. */
function isIgnored(path: string): boolean {
  return [path, `${path}/`].some((candidate) => {
    try {
      execFileSync('git', ['check-ignore', '-q', candidate], { cwd: ROOT });
      return true;
    } catch {
      return false;
    }
  });
}

const SOURCE = /\.(ts|mts|mjs|js)$/;
const PROSE = /\.md$/;

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The anchors of a markdown text's headings (a repeated heading gets -1, -2…, as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** Markdown without its fenced code blocks, whose brackets and `#` lines are code, not links or headings. */
const withoutCode = (markdown: string): string => markdown.replace(/^```[\s\S]*?^```/gm, '');

/** The relative links (and images) of a markdown text: `[text](path#anchor)`, with the line each is on. */
function relativeLinks(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  for (const [index, line] of withoutCode(markdown).split('\n').entries()) {
    for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (!/^[a-z][a-z+.-]*:/i.test(target)) found.push({ target, line: index + 1 });
    }
  }
  return found;
}

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

  it('every relative link of the docs points at a file that exists, and at a heading it has', () => {
    const known = new Set(files);
    const folders = new Set(files.flatMap((file) => file.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    const broken: string[] = [];
    let checked = 0;
    // The original server's README is test data, kept as it was handed over.
    for (const file of files.filter((f) => PROSE.test(f) && f !== 'test/contract/original-README.md')) {
      for (const { target, line } of relativeLinks(readFileSync(`${ROOT}${file}`, 'utf8'))) {
        checked += 1;
        const [path = '', anchor] = target.split('#');
        const resolved = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path)).replace(/\/$/, '');
        if (!known.has(resolved) && !folders.has(resolved)) {
          broken.push(`${file}:${line}: ${target} (no ${resolved})`);
          continue;
        }
        if (anchor !== undefined && !(PROSE.test(resolved) && anchors(readFileSync(`${ROOT}${resolved}`, 'utf8')).has(anchor))) {
          broken.push(`${file}:${line}: ${target} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});
