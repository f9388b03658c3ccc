import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, lexicographicSortSchema, parse, printSchema, visit, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../scripts/print-schema.js';

const CONTRACT_COPY = fileURLToPath(new URL('./contract/api-schema.graphql', import.meta.url));
const API_MD = fileURLToPath(new URL('../../shared/API.md', import.meta.url));

/** API.md's schema: its ```graphql blocks together (the base schema, then `extend` blocks such as the account security additions). */
function contractBlock(markdown: string): string {
  const blocks = [...markdown.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  if (blocks.length === 0) throw new Error('no ```graphql block in API.md');
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

  it('equals the contract in API.md: names, nullability, enum values, argument defaults', () => {
    const contract = readFileSync(CONTRACT_COPY, 'utf8');
    expect(canonical(printedSchema())).toBe(canonical(contract));
  });

  it.runIf(existsSync(API_MD))('keeps its copy of the contract in step with shared/API.md', () => {
    expect(canonical(readFileSync(CONTRACT_COPY, 'utf8'))).toBe(canonical(contractBlock(readFileSync(API_MD, 'utf8'))));
  });
});
