import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSSEClient } from 'graphql-sse';

/** Queries and mutations over HTTP, subscriptions over SSE, both with the current token. */
export function createUrqlClient(url: string, getToken: () => string | null): Client {
  const bearer = (): Record<string, string> => {
    const token = getToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  const sse = createSSEClient({ url, headers: bearer });
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
