import { login, register } from '../resolvers/auth.js';
import type { AuthPayload } from '../resolvers/auth.js';
import { builder } from './builder.js';
import { SessionRef } from './session.js';
import { UserRef } from './user.js';

const AuthPayloadRef = builder.objectRef<AuthPayload>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'JWT (HS256): send it as `Authorization: Bearer <token>`.' }),
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
