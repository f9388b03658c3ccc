import { readFileSync } from 'node:fs';
import { buildASTSchema, lexicographicSortSchema, parse, printSchema, visit, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../scripts/print-schema.js';

const CONTRACT = new URL('../docs/contract.md', import.meta.url);

/** The contract's schema: its ```graphql blocks together (the schema, then any `extend` block an addition brings). */
function contractSchema(markdown: string): string {
  const blocks = [...markdown.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  if (blocks.length === 0) throw new Error('no ```graphql block in docs/contract.md');
  return blocks.join('\n');
}

/** Types, fields, nullability, enum values and defaults, in a stable order, without descriptions. */
function canonical(sdl: string): string {
  const withoutDescriptions = visit(parse(sdl), {
    enter(node) {
      if ('description' in node && node.description) return { ...node, description: undefined };
      return undefined;
    },
  }) as DocumentNode;
  return printSchema(lexicographicSortSchema(buildASTSchema(withoutDescriptions)));
}

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run schema:print` after changing src/schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });

  it('equals the contract in docs/contract.md: names, nullability, enum values, argument defaults', () => {
    expect(canonical(printedSchema())).toBe(canonical(contractSchema(readFileSync(CONTRACT, 'utf8'))));
  });
});
