import { SECURITY_EVENT_TYPES } from '../models/security-event.js';
import { listSecurityEvents, type SecurityEventConnection, type SecurityEventView } from '../resolvers/security-events.js';
import { builder } from './builder.js';

const SecurityEventTypeRef = builder.enumType('SecurityEventType', { values: SECURITY_EVENT_TYPES });

const SecurityEventRef = builder.objectRef<SecurityEventView>('SecurityEvent').implement({
  description: "An entry of the account's security timeline.",
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.expose('type', { type: SecurityEventTypeRef }),
    at: t.expose('at', { type: 'DateTime' }),
    ipAddress: t.exposeString('ipAddress', { description: 'Where the action came from.' }),
    deviceInfo: t.exposeString('deviceInfo', { description: "The device that acted: its session's name, else derived from the User-Agent." }),
    sessionId: t.exposeID('sessionId', { nullable: true, description: 'The session concerned, where there is one.' }),
    sessionDeviceInfo: t.exposeString('sessionDeviceInfo', {
      nullable: true,
      description: "The name of the session concerned when it is another device than the one that acted (the device signed out, or reported as not the user's).",
    }),
    current: t.exposeBoolean('current', { description: "True when the session concerned is the caller's own." }),
  }),
});

const SecurityEventConnectionRef = builder.objectRef<SecurityEventConnection>('SecurityEventConnection').implement({
  fields: (t) => ({
    events: t.expose('events', { type: [SecurityEventRef], description: 'Newest first.' }),
    nextCursor: t.exposeString('nextCursor', { nullable: true, description: 'Pass as `after` for the next page; null on the last page.' }),
  }),
});

builder.queryField('securityEvents', (t) =>
  t.withAuth({ viewer: true }).field({
    type: SecurityEventConnectionRef,
    description:
      "The caller's own security timeline, newest first: sign-ins, sign-outs, revocations (SESSION_REPORTED: a session the user said was not theirs), password changes, failed and throttled sign-ins. " +
      '`first`: 1 to 100. Each user may read it SECURITY_EVENTS_READS_PER_MINUTE times a minute (60 by default), then RATE_LIMITED.',
    args: {
      first: t.arg.int({ defaultValue: 20 }),
      after: t.arg.string(),
    },
    resolve: (_root, args, ctx) => listSecurityEvents(ctx.services, ctx.viewer, args),
  }),
);
