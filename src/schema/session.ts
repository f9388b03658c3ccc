import { listSessions } from '../resolvers/sessions.js';
import { logout, logoutAll, revokeSession, type LogoutAllPayload } from '../revocation/sign-out.js';
import { renameSession } from '../sessions/rename.js';
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
    resolve: (_root, args, ctx) => revokeSession(ctx.services, ctx.viewer, args.id, ctx.client, { currentPassword: args.currentPassword }),
  }),
);

builder.mutationField('reportSession', (t) =>
  t.withAuth({ viewer: true }).boolean({
    description:
      "\"This wasn't me\": revokes one of the caller's other sessions (reason REVOKED, as revokeSession) and records SESSION_REPORTED in the security timeline; then change the password. Any other id is NOT_FOUND; the caller's own is BAD_USER_INPUT. " +
      'With FRESH_AGE set it needs `currentPassword` or a recent sign-in or refresh, as revokeSession.',
    args: { id: t.arg.id({ required: true }), currentPassword: t.arg.string() },
    resolve: (_root, args, ctx) => revokeSession(ctx.services, ctx.viewer, args.id, ctx.client, { reported: true, currentPassword: args.currentPassword }),
  }),
);

builder.mutationField('renameSession', (t) =>
  t.withAuth({ viewer: true }).field({
    type: SessionRef,
    description:
      "Renames one of the caller's own sessions (deviceInfo: 1 to 200 characters, as at sign-in); any other id is NOT_FOUND. Every stream of the user gets `sessionUpdated`.",
    args: { id: t.arg.id({ required: true }), deviceInfo: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => renameSession(ctx.services, ctx.viewer, args.id, args.deviceInfo),
  }),
);
