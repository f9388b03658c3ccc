import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { getMainDefinition } from '@apollo/client/utilities';
import { print } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-sse';
import { Observable } from 'rxjs';

// graphql-sse's recipe for Apollo (https://the-guild.dev/graphql/sse/recipes#with-apollo) as
// it stands, with Apollo Client 4's type names: it spreads the whole operation into the body.
// Its options may choose either mode (`ClientOptions<boolean>`).
class SSELink extends ApolloLink {
  private client: Client;

  constructor(options: ClientOptions<boolean>) {
    super();
    this.client = createClient(options);
  }

  public override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    return new Observable((sink) => {
      return this.client.subscribe<Record<string, unknown>, Record<string, unknown>>(
        { ...operation, query: print(operation.query) },
        {
          next: sink.next.bind(sink),
          complete: sink.complete.bind(sink),
          error: sink.error.bind(sink),
        },
      );
    });
  }
}

/**
 * Queries and mutations over HTTP, subscriptions over SSE, both with the current token.
 * With `streamUrl` (`/graphql/stream`), every subscription shares one event stream
 * (graphql-sse's single connection mode) instead of a connection each.
 */
export function createApolloClient(url: string, getToken: () => string | null, streamUrl?: string): ApolloClient {
  const bearer = (): Record<string, string> => {
    const token = getToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  const auth = new SetContextLink(({ headers }) => ({ headers: { ...headers, ...bearer() } }));
  const sse = new SSELink(streamUrl ? { url: streamUrl, singleConnection: true, headers: bearer } : { url, headers: bearer });
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
      },
      sse,
      auth.concat(new HttpLink({ uri: url })),
    ),
  });
}
