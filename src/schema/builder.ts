import SchemaBuilder from '@pothos/core';
import type { Auth } from '../auth/authenticate.js';
import type { RequestInfo } from '../auth/viewer.js';
import type { Services } from '../services.js';

/** Built once per request by the server: credentials are read and checked there, never in resolvers. */
export interface Context {
  services: Services;
  auth: Auth;
  /** Where the request came from (not Yoga's `request`, which Yoga adds to the context itself). */
  client: RequestInfo;
  /** Aborts when the client goes away: streams end with it. */
  signal: AbortSignal;
  /** When the credentials were checked: the subscription replays revocations from here on. */
  authenticatedAt: Date;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  // API.md: every output field is non-null unless it says otherwise.
  defaultFieldNullability: false,
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
