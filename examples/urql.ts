import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSSEClient } from 'graphql-sse';

/**
 * Queries and mutations over HTTP, subscriptions over SSE, both with the current token.
 * With `streamUrl` (`/graphql/stream`), every subscription shares one event stream
 * (graphql-sse's single connection mode) instead of a connection each.
 */
export function createUrqlClient(url: string, getToken: () => string | null, streamUrl?: string): Client {
  const bearer = (): Record<string, string> => {
    const token = getToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  const sse = createSSEClient(streamUrl ? { url: streamUrl, singleConnection: true, headers: bearer } : { url, headers: bearer });
  return new Client({
    url,
    fetchOptions: () => ({ headers: bearer() }),
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = sse.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
