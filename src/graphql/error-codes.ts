import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { maskError, type MaskError, type Plugin } from 'graphql-yoga';
import { AppError, ERROR_STATUS, isUnavailableError, type ErrorCode } from '../errors.js';

const isContractCode = (code: unknown): code is ErrorCode => typeof code === 'string' && code in ERROR_STATUS;

type AnyError = GraphQLError | GraphQLFormattedError | Error;

/**
 * API.md promises a closed set of codes. GraphQL itself reports a broken
 * request in its own words (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
 * BAD_REQUEST, or no code at all for a variable of the wrong type): all of
 * those are the client's input being wrong, so they become BAD_USER_INPUT, and
 * any `originalError` detail attached to them is dropped.
 */
function toContractError(error: AnyError, requestError: boolean): AnyError {
  const extensions = 'extensions' in error ? (error.extensions as Record<string, unknown> | undefined) : undefined;
  if (isContractCode(extensions?.code)) return error;
  // A request that never executed is a 400 whatever the Accept header (Yoga
  // answers 200 to application/json clients), so clients and proxies see bad input as such.
  // (Yoga marks its own with `spec: true`, which downgrades them to 200 for application/json.)
  const http = requestError ? { ...(extensions?.http as object | undefined), status: 400, spec: false } : extensions?.http;
  const original = error as Partial<GraphQLError>;
  return new GraphQLError(error.message, {
    nodes: original.nodes,
    source: original.source,
    positions: original.positions,
    path: original.path,
    extensions: { code: 'BAD_USER_INPUT', ...(http ? { http } : {}) },
  });
}

export function useContractErrorCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      // Streams (subscriptions) carry only errors our resolvers raised, which already have codes.
      if (Symbol.asyncIterator in result) return;
      const fix = <R extends { errors?: readonly AnyError[]; data?: unknown }>(single: R): R =>
        single.errors ? { ...single, errors: single.errors.map((e) => toContractError(e, single.data === undefined)) } : single;
      setResult(Array.isArray(result) ? result.map(fix) : fix(result));
    },
  };
}

/**
 * Yoga's masking, with one addition: a resolver that failed because MongoDB
 * or Redis is unreachable answers SERVICE_UNAVAILABLE (retry later), as REST
 * does, instead of an opaque INTERNAL_SERVER_ERROR.
 */
export const maskUnexpectedError: MaskError = (error, message, isDev) => {
  const original = error instanceof Error && 'originalError' in error ? (error as GraphQLError).originalError : undefined;
  if (original && isUnavailableError(original)) {
    const located = error as GraphQLError;
    return new GraphQLError(new AppError('SERVICE_UNAVAILABLE').message, {
      nodes: located.nodes,
      path: located.path,
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  }
  return maskError(error, message, isDev);
};
