import { createdSessionEvents } from '../streams/graphql.js';
import type { SessionView } from '../sessions/session.js';
import { builder } from './builder.js';
import { SessionRef } from './session.js';

builder.subscriptionField('sessionCreated', (t) =>
  t.withAuth({ subscriber: true }).field({
    type: SessionRef,
    description:
      "Each new sign-in on the subscriber's account (not its own session), until the subscriber's session ends. Failed sign-ins are in securityEvents.",
    subscribe: (_root, _args, ctx) =>
      createdSessionEvents(ctx.services, ctx.subscriber, ctx.auth.authenticatedAt, ctx.signal),
    resolve: (session: SessionView) => session,
  }),
);
