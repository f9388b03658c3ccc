import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { useCostLimit } from './cost.js';
import { useContractErrorCodes } from './error-codes.js';
import { useJsonBody } from './json-body.js';
import { useQueryStringParams } from './params.js';
import { useSubscriptionsOverSse } from './subscription-transport.js';

/**
 * Bounds on what one GraphQL document may ask for. Our deepest real operation
 * is 3 levels (login → session → id) with ~30 fields. The schema introspection
 * (`__schema`) is exempt from depth and cost: graphql-js' standard
 * `getIntrospectionQuery()` and GraphiQL 5's are 21 deep (test/graphiql.test.ts
 * loads the schema in a browser), and INTROSPECTION decides whether it is
 * answered at all. These refuse alias floods (`a1: login(...) a2: login(...)` is a brute-force
 * amplifier) and documents built to exhaust the parser or executor.
 *
 * Cost (src/graphql/cost.ts) is the fields resolved, in the worst case: the
 * largest documented query, a page of 100 security events with every field
 * beside `me` and every field of 100 sessions, costs 1,712; two full pages
 * fit, three do not.
 */
export const GRAPHQL_LIMITS = {
  maxAliases: 10,
  maxDepth: 20,
  maxTokens: 1000,
  maxDirectives: 10,
  maxCost: 2000,
  /** securityEvents' `first`: 1 to 100 (docs/contract.md). */
  maxPage: 100,
  /** What a list without `first` counts as: the sessions list, at the default SESSIONS_PER_USER. */
  listSize: 100,
} as const;

export function graphqlPlugins(config: Config): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: GRAPHQL_LIMITS.maxTokens }),
    maxAliasesPlugin({ n: GRAPHQL_LIMITS.maxAliases }),
    maxDepthPlugin({ n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true }),
    maxDirectivesPlugin({ n: GRAPHQL_LIMITS.maxDirectives }),
    useCostLimit({ maxCost: GRAPHQL_LIMITS.maxCost, maxPage: GRAPHQL_LIMITS.maxPage, listSize: GRAPHQL_LIMITS.listSize }),
    useContractErrorCodes(),
    useJsonBody(),
    useQueryStringParams(),
    useSubscriptionsOverSse(),
  ];
  // "Did you mean …?" maps the schema for an attacker; developers keep it.
  if (config.nodeEnv === 'production') plugins.push(blockFieldSuggestionsPlugin());
  if (!config.introspection) plugins.push(noIntrospection);
  return plugins;
}

/** INTROSPECTION=false: `__schema` and `__type` fail validation (BAD_USER_INPUT 400); `__typename` still works. */
const noIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};
