import type { Services } from '../services.js';
import type { UserView, Viewer } from '../auth/viewer.js';

/**
 * The signed-in user. `authenticate` already read the profile, from Redis on
 * the warm path (no MongoDB at all), so there is nothing left to fetch; an
 * account deleted since was refused there.
 */
export async function me(_services: Services, viewer: Viewer): Promise<UserView> {
  return viewer.user;
}
