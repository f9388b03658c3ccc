import { REVOCATION_REASONS } from '../models/session.js';
import { revocationEvents } from '../streams/graphql.js';
import type { SessionRevokedEvent } from '../sessions/session.js';
import { builder } from './builder.js';

const RevocationReasonRef = builder.enumType('RevocationReason', { values: REVOCATION_REASONS });

const SessionRevokedEventRef = builder.objectRef<SessionRevokedEvent>('SessionRevokedEvent').implement({
  fields: (t) => ({
    sessionId: t.exposeID('sessionId'),
    reason: t.expose('reason', { type: RevocationReasonRef }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime' }),
    current: t.exposeBoolean('current', { description: "True when the revoked session is the subscriber's own; the stream then ends." }),
  }),
});

builder.subscriptionField('sessionRevoked', (t) =>
  t.withAuth({ subscriber: true }).field({
    type: SessionRevokedEventRef,
    description: "Every revocation of the user's sessions, in order, ending after the subscriber's own.",
    // Over SSE only, as every subscription (src/graphql/subscription-transport.ts).
    subscribe: (_root, _args, ctx) => revocationEvents(ctx.services, ctx.subscriber, ctx.auth.authenticatedAt, ctx.signal),
    resolve: (event) => event,
  }),
);
