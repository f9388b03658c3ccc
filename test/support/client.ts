import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type ExecutionResult } from 'graphql-sse';
import { expect } from 'vitest';
import { LoginDocument, RegisterDocument, SessionCreatedDocument, SessionRevokedDocument } from './operations.js';
import type {
  LoginInput,
  RegisterInput,
  RegisterMutation,
  SessionCreatedSubscription,
  SessionRevokedSubscription,
} from '../gql/graphql.js';

export type AuthPayload = RegisterMutation['register'];

export interface GraphQLResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: readonly GraphQLFormattedError[] | undefined;
}

/** One GraphQL operation over HTTP POST with fetch, as any client sends it. */
export async function gql<T, V extends Record<string, unknown>>(
  graphqlUrl: string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  options: { token?: string | undefined; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: T | null; errors?: GraphQLFormattedError[] };
  return { status: response.status, data: body.data, errors: body.errors };
}

/** The data of a successful operation; fails the test with the errors otherwise. */
export async function ok<T, V extends Record<string, unknown>>(
  graphqlUrl: string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  token?: string,
): Promise<T> {
  const result = await gql(graphqlUrl, document, variables, { token });
  expect(result.errors).toBeUndefined();
  if (!result.data) throw new Error('no data');
  return result.data;
}

/** The error codes of a failed operation (`extensions.code` of each error). */
export async function errorCodes<T, V extends Record<string, unknown>>(
  graphqlUrl: string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  token?: string,
): Promise<string[]> {
  const result = await gql(graphqlUrl, document, variables, { token });
  return (result.errors ?? []).map((e) => String(e.extensions?.code));
}

let counter = 0;
/** A fresh address per call, so tests never collide on EMAIL_TAKEN. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}.${Date.now().toString(36)}.${process.pid}.${counter}@example.com`;
}

export const PASSWORD = 'correct horse battery';
/** What the password-change tests change it to. */
export const NEW_PASSWORD = 'a brand new passphrase';

/** Sign-up credentials no other test uses: a fresh address, the common password. */
export function newCredentials(label = 'user'): { email: string; password: string } {
  return { email: uniqueEmail(label), password: PASSWORD };
}

export async function registerUser(
  graphqlUrl: string,
  input: Partial<RegisterInput> = {},
): Promise<AuthPayload & { email: string }> {
  const email = input.email ?? uniqueEmail();
  const data = await ok(graphqlUrl, RegisterDocument, {
    input: { name: 'Test User', password: PASSWORD, ...input, email },
  });
  return { ...data.register, email };
}

export async function loginUser(graphqlUrl: string, input: LoginInput): Promise<AuthPayload> {
  const data = await ok(graphqlUrl, LoginDocument, { input });
  return data.login;
}

/** The graphql-sse client in distinct-connections mode, authenticated as `token`. */
export function sseClient(graphqlUrl: string, token: string | undefined): Client {
  return createClient({
    url: graphqlUrl,
    singleConnection: false,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
}

/** The `sessionRevoked` subscription on a graphql-sse client, typed. */
export function revocations(client: Client): AsyncIterableIterator<ExecutionResult<SessionRevokedSubscription, unknown>> {
  return client.iterate<SessionRevokedSubscription>({ query: print(SessionRevokedDocument) });
}

/** The `sessionCreated` subscription on a graphql-sse client, typed. */
export function sessionCreations(client: Client): AsyncIterableIterator<ExecutionResult<SessionCreatedSubscription, unknown>> {
  return client.iterate<SessionCreatedSubscription>({ query: print(SessionCreatedDocument) });
}
