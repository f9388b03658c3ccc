import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { maskError, type MaskError, type Plugin } from 'graphql-yoga';
import { type AppError, ERROR_STATUS, httpErrorOf, toAppError, type ErrorCode } from '../errors.js';

const isContractCode = (code: unknown): code is ErrorCode => typeof code === 'string' && code in ERROR_STATUS;

type AnyError = GraphQLError | GraphQLFormattedError | Error;

/**
 * docs/contract.md promises a closed set of codes. GraphQL itself reports a broken
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
 * An AppError in GraphQL's shape: the contract's code (with `field` or
 * `retryAfter` when it has them) in `extensions`, at the place the resolver
 * failed. Only a refusal of the whole request (one with a Retry-After, or a
 * subscription over a transport that cannot carry it) carries `extensions.http`, which Yoga
 * turns into the response's status and headers and strips from the body: every
 * other GraphQL error is answered the GraphQL way, in the body.
 */
export function toGraphQLError(error: AppError, located?: GraphQLError): GraphQLError {
  const extensions: Record<string, unknown> = { code: error.code };
  if (error.field !== undefined) extensions.field = error.field;
  if (error.retryAfter !== undefined) extensions.retryAfter = error.retryAfter;
  if (error.refusesRequest) {
    const { status, headers } = httpErrorOf(error);
    extensions.http = { status, headers };
  }
  return new GraphQLError(error.message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions,
  });
}

/**
 * Yoga's masking, after one step: an error the resolvers meant for the client
 * (an AppError, or an unreachable MongoDB or Redis, which is SERVICE_UNAVAILABLE
 * as in REST) goes out with its code; anything else is masked as INTERNAL_SERVER_ERROR.
 */
export const maskUnexpectedError: MaskError = (error, message, isDev) => {
  const located = error instanceof GraphQLError ? error : undefined;
  const known = toAppError(located ? located.originalError : error);
  if (known) return toGraphQLError(known, located);
  return maskError(error, message, isDev);
};
