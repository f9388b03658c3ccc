import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

const KNOWN = ['query', 'variables', 'operationName', 'extensions'] as const;

/**
 * A request GraphQL cannot even read, as a 400 BAD_USER_INPUT. The message is
 * ours alone: never the client's text, which may hold a password.
 */
export function unreadableRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

/** One JSON parameter of a query string (`variables`, `extensions`); absent or empty is undefined. */
function jsonParam(search: URLSearchParams, name: 'variables' | 'extensions'): unknown {
  const text = search.get(name);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Yoga's own parser let the SyntaxError through: a 500, logged with the text it quoted.
    throw unreadableRequest(`${name} must be a JSON object`);
  }
}

/**
 * GET parameters read from the query string as Yoga reads them, except that
 * `variables` or `extensions` that are not JSON are the client's mistake
 * (400), not the server's. Whether they are objects, Yoga checks next, for
 * GET and POST alike.
 */
export function useQueryStringParams(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'GET') return;
      setRequestParser((req) => {
        const search = new URL(req.url).searchParams;
        return {
          operationName: search.get('operationName') || undefined,
          query: search.get('query') || undefined,
          variables: jsonParam(search, 'variables'),
          extensions: jsonParam(search, 'extensions'),
        } as GraphQLParams;
      });
    },
  };
}

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
