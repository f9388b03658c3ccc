import { AppError } from '../errors.js';
import { REVOCATION_REASONS } from '../models/session.js';
import { wantsEventStream } from '../http/request-info.js';
import { sessionRevokedEvents } from '../resolvers/session-events.js';
import type { SessionRevokedEvent } from '../resolvers/views.js';
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
    subscribe: (_root, _args, ctx) => {
      // Only SSE can carry a stream here: refuse any other transport before a stream exists
      // (Yoga would otherwise build one and answer 406 without ever reading it).
      if (!wantsEventStream(ctx.request)) {
        // A 400 for every client, also those that accept application/json (src/graphql/error-codes.ts).
        throw new AppError('BAD_USER_INPUT', 'Subscriptions are served over SSE only: send Accept: text/event-stream', {
          field: 'accept',
          refusesRequest: true,
        });
      }
      return sessionRevokedEvents(ctx.services, ctx.subscriber, ctx.auth.authenticatedAt, ctx.signal);
    },
    resolve: (event) => event,
  }),
);
