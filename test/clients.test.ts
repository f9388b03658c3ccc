import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onEnd, pipe, subscribe } from 'wonka';
import { createApolloClient } from '../examples/apollo-client.js';
import { createUrqlClient } from '../examples/urql.js';
import { createRefreshingApolloClient } from '../examples/apollo-refresh.js';
import { createRefreshingUrqlClient } from '../examples/urql-refresh.js';
import type { Tokens } from '../examples/refresh.js';
import { errorCodes, PASSWORD, registerUser, uniqueEmail } from './support/client.js';
import { waitForSubscribers } from './support/events.js';
import { LoginDocument, MeDocument, RegisterDocument, SessionRevokedDocument, SessionsDocument } from './support/operations.js';
import { useTestServer } from './support/server.js';
import type { SessionRevokedSubscription } from './gql/graphql.js';

type Revoked = SessionRevokedSubscription['sessionRevoked'];

/** What both clients do in the same flow, each through its own API. */
interface ClientUnderTest {
  mutate<T, V extends Record<string, unknown>>(document: TypedDocumentNode<T, V>, variables: V): Promise<T>;
  query<T>(document: TypedDocumentNode<T, Record<string, never>>): Promise<T>;
  /** Resolves with every event once the subscription completes; rejects on an error. */
  subscribe(): Promise<Revoked[]>;
}

const GRAPHQL_DOC = readFileSync(fileURLToPath(new URL('../docs/graphql.md', import.meta.url)), 'utf8');
const example = (name: string): string => readFileSync(fileURLToPath(new URL(`../examples/${name}`, import.meta.url)), 'utf8');

describe('mainstream GraphQL clients, as their docs set them up', () => {
  const server = useTestServer();

  const clients: Record<string, (getToken: () => string | null) => ClientUnderTest> = {
    'Apollo Client 4 (HttpLink + graphql-sse link)': (getToken) => {
      const client = createApolloClient(server.graphqlUrl, getToken);
      return {
        async mutate(mutation, variables) {
          const result = await client.mutate({ mutation, variables });
          if (result.error || !result.data) throw result.error ?? new Error('no data');
          return result.data;
        },
        async query(query) {
          const result = await client.query({ query, fetchPolicy: 'network-only' });
          if (result.error || !result.data) throw result.error ?? new Error('no data');
          return result.data;
        },
        subscribe: () =>
          new Promise((resolve, reject) => {
            const events: Revoked[] = [];
            client.subscribe({ query: SessionRevokedDocument }).subscribe({
              next: (result) => {
                if (result.error) reject(result.error);
                else if (result.data) events.push(result.data.sessionRevoked);
              },
              error: reject,
              complete: () => resolve(events),
            });
          }),
      };
    },
    '@urql/core (fetchExchange + subscriptionExchange over graphql-sse)': (getToken) => {
      const client = createUrqlClient(server.graphqlUrl, getToken);
      return {
        async mutate(mutation, variables) {
          const result = await client.mutation(mutation, variables).toPromise();
          if (result.error || !result.data) throw result.error ?? new Error('no data');
          return result.data;
        },
        async query(query) {
          const result = await client.query(query, {}, { requestPolicy: 'network-only' }).toPromise();
          if (result.error || !result.data) throw result.error ?? new Error('no data');
          return result.data;
        },
        subscribe: () =>
          new Promise((resolve, reject) => {
            const events: Revoked[] = [];
            // wonka's pipe, as urql's docs subscribe; onEnd sees the subscription complete.
            pipe(
              client.subscription(SessionRevokedDocument, {}),
              onEnd(() => resolve(events)),
              subscribe((result) => {
                if (result.error) reject(result.error);
                // On completion urql repeats the last result (hasNext: false): one event, not two.
                else if (result.data && result.data.sessionRevoked !== events.at(-1)) events.push(result.data.sessionRevoked);
              }),
            );
          }),
      };
    },
  };

  for (const [name, create] of Object.entries(clients)) {
    it(`${name}: register, login, me, sessions, and sessionRevoked ending after its own revocation`, async () => {
      let token: string | null = null;
      const client = create(() => token);
      const email = uniqueEmail('client');

      const { register } = await client.mutate(RegisterDocument, {
        input: { name: 'Client User', email, password: PASSWORD, deviceInfo: 'first device' },
      });
      const { login } = await client.mutate(LoginDocument, { input: { email, password: PASSWORD, deviceInfo: 'second device' } });
      token = login.token;

      expect((await client.query(MeDocument)).me).toMatchObject({ id: register.user.id, email });
      const { sessions } = await client.query(SessionsDocument);
      expect(sessions.map((s) => [s.id, s.current])).toEqual(
        expect.arrayContaining([
          [login.session.id, true],
          [register.session.id, false],
        ]),
      );

      const ended = client.subscribe();
      await waitForSubscribers(server.services, register.user.id, 1);
      // Signed out from the other device: the REST route, as another app would.
      const response = await fetch(`${server.url}/api/auth/logout-all`, {
        method: 'POST',
        headers: { authorization: `Bearer ${register.token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(200);

      const events = await ended;
      expect(events.map((e) => [e.sessionId, e.reason, e.current])).toEqual([
        [register.session.id, 'LOGOUT_ALL', false],
        [login.session.id, 'LOGOUT_ALL', true],
      ]);
    });
  }

  it('extra request parameters are ignored, the known ones still checked', async () => {
    const post = (body: unknown): Promise<Response> =>
      fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const extra = await post({ query: '{ __typename }', operationType: 'query', operationName: null, client: {}, id: 7 });
    expect(extra.status).toBe(200);
    expect(await extra.json()).toEqual({ data: { __typename: 'Query' } });
    const bad = await post({ query: 42, operationType: 'query' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('BAD_USER_INPUT');
  });

  it('docs/graphql.md shows each client set-up exactly as tested', () => {
    for (const file of ['apollo-client.ts', 'urql.ts', 'refresh.ts', 'apollo-refresh.ts', 'urql-refresh.ts']) expect(GRAPHQL_DOC).toContain(example(file).trim());
  });
});

describe('the same clients with short-lived access tokens: refresh once on UNAUTHENTICATED, then retry', () => {
  const server = useTestServer({ env: { ACCESS_TOKEN_TTL: '1' } });

  const clients: Record<string, (tokens: Tokens) => () => Promise<string>> = {
    'Apollo Client 4 (ErrorLink)': (tokens) => {
      const client = createRefreshingApolloClient(server.graphqlUrl, tokens);
      return async () => {
        const result = await client.query({ query: MeDocument, fetchPolicy: 'network-only' });
        if (result.error || !result.data) throw result.error ?? new Error('no data');
        return result.data.me.id;
      };
    },
    '@urql/core (fetch option)': (tokens) => {
      const client = createRefreshingUrqlClient(server.graphqlUrl, tokens);
      return async () => {
        const result = await client.query(MeDocument, {}, { requestPolicy: 'network-only' }).toPromise();
        if (result.error || !result.data) throw result.error ?? new Error('no data');
        return result.data.me.id;
      };
    },
  };

  for (const [name, create] of Object.entries(clients)) {
    it(`${name}: an expired access token is renewed and the operation answered`, async () => {
      const user = await registerUser(server.graphqlUrl);
      const tokens: Tokens = { token: user.token, refreshToken: user.refreshToken };
      const me = create(tokens);
      expect(await me()).toBe(user.user.id);
      await expect.poll(() => errorCodes(server.graphqlUrl, MeDocument, {}, user.token), { timeout: 10_000, interval: 200 }).toEqual(['UNAUTHENTICATED']);
      expect(await me()).toBe(user.user.id);
      expect(tokens.refreshToken).not.toBe(user.refreshToken);
      expect(tokens.token).not.toBe(user.token);
    });
  }
});
