import { changePassword, deleteAccount, type ChangePasswordPayload } from '../resolvers/account.js';
import { builder } from './builder.js';

const ChangePasswordPayloadRef = builder.objectRef<ChangePasswordPayload>('ChangePasswordPayload').implement({
  fields: (t) => ({
    revokedCount: t.exposeInt('revokedCount', { description: "The other sessions revoked; the caller's session stays." }),
  }),
});

builder.mutationField('changePassword', (t) =>
  t.withAuth({ viewer: true }).field({
    type: ChangePasswordPayloadRef,
    description:
      'Sets a new password (the register rules apply) and revokes every other session (PASSWORD_CHANGED) before answering. ' +
      'A wrong currentPassword is INVALID_CREDENTIALS and counts toward the sign-in limits.',
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => changePassword(ctx.services, ctx.viewer, args, ctx.client),
  }),
);

builder.mutationField('deleteAccount', (t) =>
  t.withAuth({ viewer: true }).boolean({
    description:
      'Deletes the account: every session is revoked (ACCOUNT_DELETED), then the user, its sessions and its security events are deleted; the email can register again.',
    args: {
      password: t.arg.string({ description: 'The current password (or as `currentPassword`, as the other sensitive actions name it): one of the two is required.' }),
      currentPassword: t.arg.string(),
    },
    resolve: (_root, args, ctx) => deleteAccount(ctx.services, ctx.viewer, args, ctx.client),
  }),
);
