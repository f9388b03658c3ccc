import { me } from '../resolvers/me.js';
import type { UserView } from '../auth/viewer.js';
import { builder } from './builder.js';

export const UserRef = builder.objectRef<UserView>('User').implement({
  description: 'An account.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email', { description: 'Stored and returned lower-cased and trimmed.' }),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('me', (t) =>
  t.withAuth({ viewer: true }).field({
    type: UserRef,
    description: 'The signed-in user.',
    resolve: (_root, _args, ctx) => me(ctx.services, ctx.viewer),
  }),
);
