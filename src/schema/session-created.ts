import { requireViewer } from '../auth/authenticate.js';
import { sessionCreatedEvents } from '../resolvers/session-created.js';
import type { SessionView } from '../resolvers/views.js';
import { builder } from './builder.js';
import { SessionRef } from './session.js';

builder.subscriptionField('sessionCreated', (t) =>
  t.field({
    type: SessionRef,
    description:
      "Each new sign-in on the subscriber's account (not its own session), until the subscriber's session ends. Failed sign-ins are in securityEvents.",
    subscribe: (_root, _args, ctx) =>
      sessionCreatedEvents(ctx.services, requireViewer(ctx.auth), ctx.authenticatedAt, ctx.signal),
    resolve: (session: SessionView) => session,
  }),
);
