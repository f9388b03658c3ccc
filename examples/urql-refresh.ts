import { Client, fetchExchange } from '@urql/core';
import { refresher, type Tokens } from './refresh.js';

/** urql with short-lived access tokens: its fetch refreshes once on UNAUTHENTICATED and retries the request. */
export function createRefreshingUrqlClient(url: string, tokens: Tokens): Client {
  const refresh = refresher(url, tokens);
  const send = (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (tokens.token) headers.set('authorization', `Bearer ${tokens.token}`);
    return fetch(input, { ...init, headers });
  };
  return new Client({
    url,
    exchanges: [fetchExchange],
    async fetch(input, init) {
      const response = await send(input, init);
      const body = (await response.clone().json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      const unauthenticated = body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;
      return unauthenticated && (await refresh()) ? send(input, init) : response;
    },
  });
}
