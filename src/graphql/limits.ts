import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { useContractErrorCodes } from './error-codes.js';
import { useJsonBody } from './json-body.js';

/**
 * Bounds on what one GraphQL document may ask for. Our deepest real operation
 * is 3 levels (login → session → id) with ~30 fields. The schema introspection
 * (`__schema`) is exempt from depth and cost: graphql-js' standard
 * `getIntrospectionQuery()` and GraphiQL 5's are 21 deep (test/graphiql.test.ts
 * loads the schema in a browser), and INTROSPECTION decides whether it is
 * answered at all. These refuse alias floods (`a1: login(...) a2: login(...)` is a brute-force
 * amplifier) and documents built to exhaust the parser or executor.
 */
export const GRAPHQL_LIMITS = {
  maxAliases: 10,
  maxDepth: 20,
  maxTokens: 1000,
  maxDirectives: 10,
  maxCost: 2000,
} as const;

export function graphqlPlugins(config: Config): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: GRAPHQL_LIMITS.maxTokens }),
    maxAliasesPlugin({ n: GRAPHQL_LIMITS.maxAliases }),
    maxDepthPlugin({ n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true }),
    maxDirectivesPlugin({ n: GRAPHQL_LIMITS.maxDirectives }),
    costLimitPlugin({ maxCost: GRAPHQL_LIMITS.maxCost, ignoreIntrospection: true }),
    useContractErrorCodes(),
    useJsonBody(),
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
