import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { from, mergeMap, throwError } from 'rxjs';
import { refresher, type Tokens } from './refresh.js';

/** Apollo Client with short-lived access tokens: on UNAUTHENTICATED, refresh once and retry the operation. */
export function createRefreshingApolloClient(url: string, tokens: Tokens): ApolloClient {
  const refresh = refresher(url, tokens);
  const auth = new SetContextLink(({ headers }) => ({
    headers: { ...headers, ...(tokens.token ? { authorization: `Bearer ${tokens.token}` } : {}) },
  }));
  const retry = new ErrorLink(({ error, operation, forward }) => {
    const unauthenticated = CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
    if (!unauthenticated || operation.getContext().refreshed) return;
    operation.setContext({ refreshed: true });
    // Through `auth` again, which sets the new token.
    return from(refresh()).pipe(mergeMap((renewed) => (renewed ? forward(operation) : throwError(() => error))));
  });
  return new ApolloClient({ cache: new InMemoryCache(), link: ApolloLink.from([retry, auth, new HttpLink({ uri: url })]) });
}
