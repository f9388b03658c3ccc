import { MAX_LENGTH, validateDeviceInfo, validateSessionId } from '../auth/validation.js';
import type { Viewer } from '../auth/viewer.js';
import { badInput, notFound } from '../errors.js';
import { activeFilter } from '../models/session.js';
import { requireOwnSession } from './active.js';
import type { Services } from '../services.js';
import { fromRecord, toJson, viewOf, type SessionView } from './session.js';

/**
 * `renameSession` and `PATCH /api/auth/sessions/:id`: gives one of the
 * viewer's own active sessions a new name, by the rule a name given at
 * sign-in follows (src/auth/validation.ts), except that it cannot be empty.
 * Any other id, whoever owns it, is NOT_FOUND.
 *
 * MongoDB is written first (the durable name), then the Redis session list
 * (what every request reads: src/sessions/session-list.ts), then the user's
 * streams are told (`sessionUpdated`, on the same per-user path as sign-ins
 * and revocations: src/streams/feeds.ts).
 *
 * Two renames of one session at the same instant each land in the three
 * places, last writer wins in each; they could disagree on which was last
 * (one device renaming a session twice within a round trip). Nothing is
 * locked for it: the list shows one of the two names, and the next rename
 * settles it everywhere.
 */
export async function renameSession(services: Services, viewer: Viewer, id: unknown, name: unknown): Promise<SessionView> {
  const sessionId = validateSessionId(id);
  const deviceInfo = validateDeviceInfo(name);
  if (deviceInfo === undefined) {
    throw badInput('deviceInfo', `deviceInfo must be 1 to ${MAX_LENGTH.deviceInfo} characters`);
  }
  const { models, sessionList, pubsub, log } = services;
  const { userId } = viewer;
  await requireOwnSession(services, userId, sessionId, 'No active session with this id');
  // The filter has the user: never another user's session, even if the checks above were wrong.
  // An update, then a read: not findOneAndUpdate, which sends the schema's hidden fields
  // (refreshHash) as a projection that FerretDB's findAndModify does not take.
  const updated = await models.Session.updateOne({ sessionId, userId, ...activeFilter() }, { $set: { deviceInfo } });
  const record = updated.matchedCount === 0 ? null : await models.Session.findOne({ sessionId, userId }).lean();
  if (!record) throw notFound('No active session with this id');
  const session = fromRecord(record);
  await sessionList.rename(userId, sessionId, deviceInfo);
  await pubsub
    .publish('sessionUpdated', userId, { userId, session: toJson(session) })
    // The name is changed; only the live notice is lost (the next list read shows it).
    .catch((error: unknown) => log.error({ err: (error as Error).message }, 'sessionUpdated publish failed'));
  return viewOf(session, viewer.sessionId);
}
