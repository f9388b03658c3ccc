import { listSessions } from '../resolvers/sessions.js';
import { logout, logoutAll, revokeSession, type LogoutAllPayload } from '../revocation/sign-out.js';
import type { SessionView } from '../sessions/session.js';
import { builder } from './builder.js';

export const SessionRef = builder.objectRef<SessionView>('Session').implement({
  description: 'A signed-in device.',
  fields: (t) => ({
    id: t.exposeID('id', { description: "The session id, also the token's `sid` claim." }),
    deviceInfo: t.exposeString('deviceInfo', { description: 'As the client named it, else derived from the User-Agent ("Firefox 133 on Linux").' }),
    ipAddress: t.exposeString('ipAddress'),
    userAgent: t.exposeString('userAgent'),
    lastActivity: t.expose('lastActivity', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'The absolute end (SESSION_MAX_AGE after sign-in), however much it is used.' }),
    idleExpiresAt: t.expose('idleExpiresAt', {
      type: 'DateTime',
      description: 'When it ends unless used before (SESSION_IDLE_TIMEOUT after its last use), never after `expiresAt`.',
    }),
    current: t.exposeBoolean('current', { description: 'True for the session whose token made the request.' }),
  }),
});

const LogoutAllPayloadRef = builder.objectRef<LogoutAllPayload>('LogoutAllPayload').implement({
  fields: (t) => ({
    revokedCount: t.exposeInt('revokedCount'),
    revokedSessionIds: t.exposeIDList('revokedSessionIds'),
  }),
});

builder.queryField('sessions', (t) =>
  t.withAuth({ viewer: true }).field({
    type: [SessionRef],
    description: "The caller's active sessions, newest first.",
    resolve: (_root, _args, ctx) => listSessions(ctx.services, ctx.viewer),
  }),
);

builder.mutationField('logout', (t) =>
  t.withAuth({ viewer: true }).boolean({
    description: "Revokes the caller's session.",
    resolve: (_root, _args, ctx) => logout(ctx.services, ctx.viewer, ctx.client),
  }),
);

builder.mutationField('logoutAll', (t) =>
  t.withAuth({ viewer: true }).field({
    type: LogoutAllPayloadRef,
    description:
      "Revokes all the caller's sessions, or all but the current one. With FRESH_AGE set, needs `currentPassword` or a recent sign-in " +
      'or refresh, else REAUTHENTICATION_REQUIRED.',
    args: { exceptCurrent: t.arg.boolean({ defaultValue: false }), currentPassword: t.arg.string() },
    resolve: (_root, args, ctx) => logoutAll(ctx.services, ctx.viewer, args, ctx.client),
  }),
);

builder.mutationField('revokeSession', (t) =>
  t.withAuth({ viewer: true }).boolean({
    description:
      "Revokes one of the caller's own sessions; any other id is NOT_FOUND. Another device than the caller's, with FRESH_AGE set, " +
      'needs `currentPassword` or a recent sign-in or refresh, else REAUTHENTICATION_REQUIRED.',
    args: { id: t.arg.id({ required: true }), currentPassword: t.arg.string() },
    resolve: (_root, args, ctx) => revokeSession(ctx.services, ctx.viewer, args.id, ctx.client, args.currentPassword),
  }),
);
