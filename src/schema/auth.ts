import { login, register } from '../resolvers/auth.js';
import { refreshSession } from '../sessions/refresh.js';
import type { AuthPayload } from '../resolvers/auth.js';
import { builder } from './builder.js';
import { SessionRef } from './session.js';
import { UserRef } from './user.js';

const AuthPayloadRef = builder.objectRef<AuthPayload>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'JWT (signed with JWT_ALGORITHM, HS256 by default): send it as `Authorization: Bearer <token>`. Lives ACCESS_TOKEN_TTL (default 7 days), never past the session.',
    }),
    refreshToken: t.exposeString('refreshToken', {
      description: 'Opaque, single use: `refresh` spends it for a new `token` and `refreshToken`. Keep it secret; a spent one used again ends the session (TOKEN_REUSE).',
    }),
    user: t.expose('user', { type: UserRef }),
    session: t.expose('session', { type: SessionRef }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    deviceInfo: t.string(),
  }),
});

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    deviceInfo: t.string(),
  }),
});

builder.mutationField('register', (t) =>
  t.field({
    type: AuthPayloadRef,
    description: 'Creates the account and its first session.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: (_root, args, ctx) => register(ctx.services, args.input, ctx.client),
  }),
);

builder.mutationField('login', (t) =>
  t.field({
    type: AuthPayloadRef,
    description:
      'Opens a new session. A wrong email or password is INVALID_CREDENTIALS, one message for both; ' +
      'the right password for an account an administrator blocked is ACCOUNT_BLOCKED.',
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: (_root, args, ctx) => login(ctx.services, args.input, ctx.client),
  }),
);

builder.mutationField('refresh', (t) =>
  t.field({
    type: AuthPayloadRef,
    description:
      'Spends a refresh token for a new access token and refresh token of the same session, and counts as a use of it. ' +
      'Needs no bearer token. A spent, unknown or expired refresh token is UNAUTHENTICATED; one spent more than REFRESH_REUSE_GRACE ago ' +
      'ends its session (TOKEN_REUSE) on every device.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => refreshSession(ctx.services, args.refreshToken, ctx.client),
  }),
);
