import type { Plugin } from 'graphql-yoga';
import { AppError } from '../errors.js';
import { wantsEventStream } from '../http/request-info.js';
import { toGraphQLError } from './error-codes.js';

/**
 * Subscriptions are served over SSE only, and this rule holds for every
 * subscription field at once, before any of them runs: a field's subscribe
 * takes a stream place (the STREAMS_PER_SESSION cap), and a stream over a
 * transport that cannot carry it would never be read or closed, only answered
 * 406 by Yoga while its place lasted. The refusal is a 400 for every client,
 * also those that accept application/json (src/graphql/error-codes.ts).
 */
export function useSubscriptionsOverSse(): Plugin<{ request: Request }> {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      if (wantsEventStream(args.contextValue.request.headers.get('accept'))) return;
      const refusal = new AppError('BAD_USER_INPUT', 'Subscriptions are served over SSE only: send Accept: text/event-stream', {
        field: 'accept',
        refusesRequest: true,
      });
      setResultAndStopExecution({ errors: [toGraphQLError(refusal)] });
    },
  };
}
