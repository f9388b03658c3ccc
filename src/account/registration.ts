import type { Types } from 'mongoose';
import { AppError } from '../errors.js';
import { op } from '../models/session.js';
import type { UserRecord } from '../models/user.js';
import type { Services } from '../services.js';
import { clearAccountCache } from './cache.js';

/**
 * A registration is several writes (the user, its first session, then the
 * account made usable), and FerretDB has no transactions. If MongoDB fails
 * between two of them, the answer must still say what happened. So the user is
 * inserted unfinished (`registeringSince`), and only the registration's last
 * write, after its first session exists, makes it an account. Until then it is
 * none: it cannot sign in, the same registration sent again (same email and
 * password) replaces it instead of meeting EMAIL_TAKEN, and housekeeping
 * removes it once it is older than UNFINISHED_REGISTRATION_MS.
 *
 * When a step fails, the registration removes what it wrote and answers the
 * failure; when the removal finds the account finished (the last write landed
 * although its answer was lost), it answers success instead. Only when MongoDB
 * answers neither is the outcome unknown, and the answer says so.
 */

/** An unfinished registration older than this is abandoned: any registration of its email replaces it, and housekeeping removes it. */
export const UNFINISHED_REGISTRATION_MS = 5 * 60_000;

const isDuplicateKey = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

const emailTaken = (): AppError => new AppError('EMAIL_TAKEN');

type NewUser = Pick<UserRecord, 'email' | 'name'> & { password: string };

/**
 * Inserts the user unfinished. An unfinished one already there is replaced if
 * this is the same registration again (its password matches) or if it was
 * abandoned; anything else with the email is EMAIL_TAKEN (the unique index
 * decides, so two racing registrations cannot both win).
 */
export async function insertUnfinishedUser(services: Services, user: NewUser, plainPassword: string): Promise<UserRecord> {
  const { User } = services.models;
  for (let attempt = 0; ; attempt += 1) {
    const document = new User({ ...user, registeringSince: new Date() });
    try {
      await document.save();
      return document.toObject();
    } catch (error) {
      // Another failure may still have landed: unfinished, it is no account, and a retry or housekeeping removes it.
      if (!isDuplicateKey(error)) throw error;
      if (attempt > 0 || !(await replaceUnfinished(services, user.email, plainPassword))) throw emailTaken();
    }
  }
}

/** Removes the unfinished registration of `email` if this one may take its place; false if there is an account. */
async function replaceUnfinished(services: Services, email: string, plainPassword: string): Promise<boolean> {
  const existing = await services.models.User.findOne({ email }, { password: 1, registeringSince: 1 }).select('+password').lean();
  if (!existing) return true;
  if (!existing.registeringSince) return false;
  const abandoned = existing.registeringSince.getTime() < Date.now() - UNFINISHED_REGISTRATION_MS;
  if (!abandoned && !(await services.passwords.verify(plainPassword, existing.password))) return false;
  await removeUnfinished(services, existing._id);
  return true;
}

/**
 * Deletes the user if it is still unfinished, then whatever the registration
 * wrote for it. True if it was removed; false if it is gone already or finished.
 */
export async function removeUnfinished(services: Services, userId: Types.ObjectId): Promise<boolean> {
  const { User } = services.models;
  // The condition is the guard: a registration that finishes meanwhile keeps its account.
  const removed = await User.deleteOne({ _id: userId, registeringSince: op({ $exists: true }) });
  if (removed.deletedCount === 0) return false;
  await removeLeftovers(services, userId);
  return true;
}

/** The sessions, timeline and cache entries of a registration that never became an account; its tokens were never given out. */
async function removeLeftovers(services: Services, userId: Types.ObjectId): Promise<void> {
  const { Session, SecurityEvent } = services.models;
  await Promise.all([Session.deleteMany({ userId }), SecurityEvent.deleteMany({ userId }), clearAccountCache(services, userId.toHexString())]);
}

/** The registration's last write: from here the user is an account. Throws if it is no longer there to finish. */
export async function finishRegistration(services: Services, userId: Types.ObjectId): Promise<void> {
  // `timestamps: false`: the account's `updatedAt` stays what the answer (and the cached profile) says.
  const finished = await services.models.User.updateOne(
    { _id: userId, registeringSince: op({ $exists: true }) },
    { $unset: { registeringSince: 1 } },
    { timestamps: false },
  );
  if (finished.matchedCount === 0) throw new Error('the unfinished registration was replaced before it finished');
}

/**
 * After a step of the registration of `user` failed with `error`: removes what
 * it wrote, and says how it ended. Resolves with true if the account exists
 * after all (the last write landed: the caller answers success); otherwise
 * throws the answer: `error` if nothing is left, EMAIL_TAKEN if another
 * registration of the email took its place, SERVICE_UNAVAILABLE saying the
 * outcome is unknown if MongoDB answers nothing and the last write was sent.
 */
export async function settleFailedRegistration(
  services: Services,
  user: Pick<UserRecord, '_id' | 'email'>,
  error: unknown,
  lastWriteSent: boolean,
): Promise<true> {
  const { User } = services.models;
  const unknown = (cleanup: unknown): AppError => {
    services.log.error({ err: (cleanup as Error).message, userId: user._id.toHexString() }, 'register: could not remove the unfinished account');
    return lastWriteSent
      ? new AppError('SERVICE_UNAVAILABLE', 'The database did not confirm the registration: register again with the same details to finish it')
      : new AppError('SERVICE_UNAVAILABLE', 'The account was not created: retry later');
  };
  let removed: boolean;
  try {
    removed = await removeUnfinished(services, user._id);
  } catch (cleanup) {
    throw unknown(cleanup);
  }
  if (removed) throw error;
  // Finished, or replaced by another registration of the email (the same one retried, or after it was abandoned).
  let now: Pick<UserRecord, 'registeringSince'> | null;
  try {
    now = await User.findById(user._id, { registeringSince: 1 }).lean();
  } catch (cleanup) {
    throw unknown(cleanup);
  }
  if (now && !now.registeringSince) return true;
  await removeLeftovers(services, user._id).catch(() => {
    // Sessions of a user that does not exist: no token of them was given out, and none would pass.
  });
  throw (await User.exists({ email: user.email }).catch(() => null)) ? emailTaken() : error;
}

/**
 * Housekeeping: removes registrations left unfinished for longer than
 * `olderThanMs` (their request failed and was never retried), oldest first, at
 * most `limit` per call. Returns how many it removed.
 */
export async function removeUnfinishedRegistrations(
  services: Services,
  options: { olderThanMs?: number; limit?: number } = {},
): Promise<number> {
  const { olderThanMs = UNFINISHED_REGISTRATION_MS, limit = 20 } = options;
  const stale = await services.models.User.find({ registeringSince: op({ $lte: new Date(Date.now() - olderThanMs) }) }, { _id: 1 })
    .sort({ registeringSince: 1 })
    .limit(limit)
    .lean();
  let removed = 0;
  for (const user of stale) {
    if (await removeUnfinished(services, user._id)) removed += 1;
  }
  return removed;
}
