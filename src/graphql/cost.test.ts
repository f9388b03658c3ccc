import { readFileSync } from 'node:fs';
import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../schema/index.js';
import { costLimitRule, operationCost } from './cost.js';
import { GRAPHQL_LIMITS } from './limits.js';

const limits = { maxCost: GRAPHQL_LIMITS.maxCost, maxPage: GRAPHQL_LIMITS.maxPage, listSize: GRAPHQL_LIMITS.listSize };

/** The cost of a document's one operation. */
function costOf(source: string): number {
  const document = parse(source);
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return operationCost(schema, operation, (name) => fragments.get(name), limits);
}

const refusals = (source: string): string[] => validate(schema, parse(source), [costLimitRule(limits)]).map((e) => e.message);

const EVENT = 'id type at ipAddress deviceInfo sessionId current __typename';
const SESSION = 'id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current __typename';

describe('operationCost()', () => {
  it('counts each field once per item of the lists above it', () => {
    expect(costOf('{ me { id } }')).toBe(2);
    // sessions (1) and 100 × its 9 fields.
    expect(costOf(`{ sessions { ${SESSION} } }`)).toBe(1 + 100 * 9);
    // securityEvents, events, 20 (the default `first`) × 8 fields, nextCursor.
    expect(costOf(`{ securityEvents { events { ${EVENT} } nextCursor } }`)).toBe(1 + 1 + 20 * 8 + 1);
    expect(costOf(`{ securityEvents(first: 100) { events { ${EVENT} } nextCursor } }`)).toBe(1 + 1 + 100 * 8 + 1);
    // docs/graphql.md's example at a full page (all seven fields, no __typename): the figure docs/operations.md's "Limits" gives.
    expect(costOf('query { securityEvents(first: 100) { events { id type at ipAddress deviceInfo sessionId current } nextCursor } }')).toBe(703);
    // A list of scalars is one field resolved.
    expect(costOf('mutation { logoutAll { revokedCount revokedSessionIds } }')).toBe(3);
  });

  it('counts a page size passed as a variable, or written larger than allowed, at the largest page', () => {
    const full = costOf(`{ securityEvents(first: 100) { events { id } } }`);
    expect(costOf(`query($n: Int) { securityEvents(first: $n) { events { id } } }`)).toBe(full);
    expect(costOf(`{ securityEvents(first: 100000) { events { id } } }`)).toBe(full);
  });

  it('counts fragments where they are spread, inline or named, and each spread of a fragment', () => {
    const plain = costOf(`{ sessions { id current } }`);
    expect(costOf(`{ sessions { ...S } } fragment S on Session { id current }`)).toBe(plain);
    expect(costOf(`{ sessions { ... on Session { id current } } }`)).toBe(plain);
    expect(costOf(`{ a: sessions { ...S } b: sessions { ...S } } fragment S on Session { id current }`)).toBe(2 * plain);
  });

  it('walks a fragment once however often it is spread: a fragment tree ten levels deep is counted at once', () => {
    const levels = Array.from({ length: 10 }, (_, i) => `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`).join(' ');
    expect(costOf(`{ me { ...F0 } } ${levels} fragment F10 on User { id }`)).toBe(1 + 2 ** 10);
  });

  it('leaves introspection free', () => {
    expect(costOf('{ __schema { types { name fields { name } } } }')).toBe(0);
  });
});

describe('costLimitRule()', () => {
  it('accepts every GraphQL operation of the README and docs/graphql.md, and the same with a full page of security events', () => {
    const docs = ['../../README.md', '../../docs/graphql.md'].map((path) => readFileSync(new URL(path, import.meta.url), 'utf8')).join('\n');
    const blocks = [...docs.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    // Each operation under its `#` comment, some over two lines.
    const operations = blocks.flatMap((block) => block.split(/^#.*$/m).map((text) => text.trim()).filter((text) => /^(query|mutation|subscription)\b/.test(text)));
    expect(operations.length).toBeGreaterThanOrEqual(10);
    for (const operation of [...operations, ...operations.map((o) => o.replace('first: 20', 'first: 100'))]) {
      expect(refusals(operation), operation).toEqual([]);
    }
  });

  it('accepts the largest documented read: me, every field of the sessions and a full page of events', () => {
    const dashboard = `{ me { id name email createdAt updatedAt __typename } sessions { ${SESSION} } securityEvents(first: 100) { events { ${EVENT} } nextCursor __typename } }`;
    expect(costOf(dashboard)).toBe(1712);
    expect(refusals(dashboard)).toEqual([]);
  });

  it('refuses three full pages of events, written in or as a variable', () => {
    const pages = (first: string) => [0, 1, 2].map((i) => `p${i}: securityEvents(first: ${first}) { events { ${EVENT} } nextCursor }`).join(' ');
    expect(refusals(`{ ${pages('100')} }`)).toEqual([`Query cost limit of ${limits.maxCost} exceeded, found ${3 * 803}`]);
    expect(refusals(`query($n: Int) { ${pages('$n')} }`)).toEqual([`Query cost limit of ${limits.maxCost} exceeded, found ${3 * 803}`]);
  });
});
