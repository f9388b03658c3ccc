import { sessionStepEvents } from '../streams/graphql.js';
import type { SessionView } from '../sessions/session.js';
import { builder } from './builder.js';
import { SessionRef } from './session.js';

builder.subscriptionField('sessionCreated', (t) =>
  t.withAuth({ subscriber: true }).field({
    type: SessionRef,
    description:
      "Each new sign-in on the subscriber's account (not its own session), until the subscriber's session ends. Failed sign-ins are in securityEvents.",
    subscribe: (_root, _args, ctx) =>
      sessionStepEvents(ctx.services, ctx.subscriber, ctx.auth.authenticatedAt, ctx.signal, 'created'),
    resolve: (session: SessionView) => session,
  }),
);

builder.subscriptionField('sessionUpdated', (t) =>
  t.withAuth({ subscriber: true }).field({
    type: SessionRef,
    description:
      "Each renamed session of the subscriber's account (its own included), as it is now, in order with the account's other events, until the subscriber's session ends.",
    subscribe: (_root, _args, ctx) =>
      sessionStepEvents(ctx.services, ctx.subscriber, ctx.auth.authenticatedAt, ctx.signal, 'updated'),
    resolve: (session: SessionView) => session,
  }),
);
