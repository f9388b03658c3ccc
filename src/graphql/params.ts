import type { GraphQLParams, Plugin } from 'graphql-yoga';

const KNOWN = ['query', 'variables', 'operationName', 'extensions'] as const;

/**
 * Drops request parameters GraphQL-over-HTTP does not define, before Yoga
 * checks them. Mainstream clients send extras: the graphql-sse link recipe for
 * Apollo Client spreads the whole `operation` (`operationType`, `setContext`,
 * `client`…) into the body, and Yoga would refuse the request with
 * "Unexpected parameter". The four known ones keep Yoga's type checks, and
 * the body limits apply before any of this runs.
 */
export function useIgnoreUnknownParams(): Plugin {
  return {
    onParams({ params, setParams }) {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) return;
      if (Object.keys(params).every((key) => (KNOWN as readonly string[]).includes(key))) return;
      const known: GraphQLParams = {};
      for (const key of KNOWN) if (key in params) Object.assign(known, { [key]: params[key] });
      setParams(known);
    },
  };
}
