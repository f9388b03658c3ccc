import { unauthenticated } from '../errors.js';
import type { Services } from '../services.js';
import type { Viewer } from '../auth/viewer.js';
import { toUserView, type UserView } from './views.js';

export async function me(services: Services, viewer: Viewer): Promise<UserView> {
  const user = await services.models.User.findById(viewer.userId).lean();
  // A deleted account's tokens are as good as revoked.
  if (!user) throw unauthenticated();
  return toUserView(user);
}
