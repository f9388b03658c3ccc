import { requireViewer } from '../resolvers/authenticate.js';
import { listSessions, logout, logoutAll, revokeSession } from '../resolvers/sessions.js';
import type { LogoutAllPayload, SessionView } from '../resolvers/views.js';
import { builder } from './builder.js';

export const SessionRef = builder.objectRef<SessionView>('Session').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    deviceInfo: t.exposeString('deviceInfo'),
    ipAddress: t.exposeString('ipAddress'),
    userAgent: t.exposeString('userAgent'),
    lastActivity: t.expose('lastActivity', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    current: t.exposeBoolean('current'),
  }),
});

const LogoutAllPayloadRef = builder.objectRef<LogoutAllPayload>('LogoutAllPayload').implement({
  fields: (t) => ({
    revokedCount: t.exposeInt('revokedCount'),
    revokedSessionIds: t.exposeIDList('revokedSessionIds'),
  }),
});

builder.queryField('sessions', (t) =>
  t.field({
    type: [SessionRef],
    resolve: (_root, _args, ctx) => listSessions(ctx.services, requireViewer(ctx.auth)),
  }),
);

builder.mutationField('logout', (t) =>
  t.boolean({
    resolve: (_root, _args, ctx) => logout(ctx.services, requireViewer(ctx.auth)),
  }),
);

builder.mutationField('logoutAll', (t) =>
  t.field({
    type: LogoutAllPayloadRef,
    args: { exceptCurrent: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, ctx) => logoutAll(ctx.services, requireViewer(ctx.auth), args),
  }),
);

builder.mutationField('revokeSession', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => revokeSession(ctx.services, requireViewer(ctx.auth), args.id),
  }),
);
