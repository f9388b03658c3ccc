import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { authFailure, type RequestAuth } from '../auth/credentials.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import type { SubscriptionSlot } from '../streams/graphql.js';

/** Built once per request by the server: credentials are read and checked there, never in resolvers. */
export interface Context extends SubscriptionSlot {
  services: Services;
  /** The caller per transport (src/auth/credentials.ts). */
  auth: RequestAuth;
  /** The caller of a query or mutation; read it through `withAuth({ viewer: true })`, which makes it non-null. */
  viewer: Viewer | null;
  /** The caller of a subscription; read it through `withAuth({ subscriber: true })`. */
  subscriber: Viewer | null;
  /** Where the request came from (not Yoga's `request`, which Yoga adds to the context itself). */
  client: RequestInfo;
  /** Aborts when the client goes away: streams end with it. */
  signal: AbortSignal;
  /** The HTTP request, which Yoga adds to every context (subscriptions check its transport). */
  request: Request;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { viewer: boolean; subscriber: boolean };
  AuthContexts: { viewer: Context & { viewer: Viewer }; subscriber: Context & { subscriber: Viewer } };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    // "Needs a viewer", stated once for GraphQL: queries and mutations take the
    // Bearer header only; the subscription may also take `?token=`.
    authScopes: (ctx) => ({ viewer: ctx.viewer !== null, subscriber: ctx.subscriber !== null }),
    // Checked when a subscription starts, not when its first event arrives.
    authorizeOnSubscribe: true,
    // The contract's code: UNAUTHENTICATED, or SERVICE_UNAVAILABLE when the session could not be checked.
    unauthorizedError: (_parent, ctx, info) =>
      authFailure(ctx.auth, info.operation.operation === 'subscription' ? 'stream' : 'request'),
  },
  // docs/contract.md: every output field is non-null unless it says otherwise.
  defaultFieldNullability: false,
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
