import { AppError, isUnavailableError } from '../errors.js';
import type { Services } from '../services.js';
import { describeUserAgent } from '../auth/device.js';
import { validateLoginInput, validateRegisterInput } from '../auth/validation.js';
import { finishRegistration, insertUnfinishedUser, settleFailedRegistration } from '../account/registration.js';
import { isThrottled } from '../timeline/record.js';
import { confirmSignIn, createSession, type SessionTokens } from '../sessions/sign-in.js';
import { toUserView, type RequestInfo, type UserView } from '../auth/viewer.js';
import type { SessionView } from '../sessions/session.js';

/** What `register` and `login` answer (GraphQL `AuthPayload`, REST's body). */
export interface AuthPayload {
  token: string;
  /** Spent once by `refresh` for a new pair (src/sessions/refresh.ts). */
  refreshToken: string;
  user: UserView;
  session: SessionView;
}

/**
 * Creates the account and its first session, all or nothing as far as anyone
 * can tell: the user is written unfinished and becomes an account with the
 * last write, after its session exists (src/account/registration.ts).
 */
export async function register(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const input = validateRegisterInput(rawInput);
  services.passwords.checkCapacity();
  await services.signInLimiter.checkRegistration(request.ipAddress);
  const password = await services.passwords.hash(input.password);
  const user = await insertUnfinishedUser(services, { email: input.email, password, name: input.name }, input.password);
  const deviceInfo = input.deviceInfo ?? describeUserAgent(request.userAgent);
  const view = toUserView(user);
  let created: SessionTokens | undefined;
  let lastWriteSent = false;
  try {
    created = await createSession(services, view, request, deviceInfo);
    await confirmSignIn(services, user, created.session, deviceInfo, request);
    lastWriteSent = true;
    await finishRegistration(services, user._id);
  } catch (error) {
    if (!lastWriteSent && isUnavailableError(error)) {
      // Nothing made it an account, so the answer is true now: the cleanup need not hold it up.
      void settleFailedRegistration(services, user, error, false).catch(() => {});
      throw error;
    }
    // Throws the answer, unless the account exists after all (its last write landed).
    await settleFailedRegistration(services, user, error, lastWriteSent);
    if (!created) throw error;
  }
  return { token: created.token, refreshToken: created.refreshToken, user: view, session: created.session };
}

/** Checks the password and opens a new session. Unknown email and wrong password look the same. */
export async function login(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const { signIns } = services.metrics;
  try {
    const signedIn = await checkAndSignIn(services, rawInput, request);
    signIns.inc({ outcome: 'succeeded' });
    return signedIn;
  } catch (error) {
    if (error instanceof RefusedByLimit) {
      signIns.inc({ outcome: 'refused' });
      throw error.cause;
    }
    if (error instanceof AppError && error.code === 'INVALID_CREDENTIALS') signIns.inc({ outcome: 'failed' });
    throw error;
  }
}

/** A sign-in refused by a limit (a rate limit, or the password pool full) before its password was checked: the metric's `refused`. */
class RefusedByLimit extends Error {
  constructor(override readonly cause: unknown) {
    super('refused by a limit');
  }
}

const refusedByLimit = (error: unknown): never => {
  throw new RefusedByLimit(error);
};

async function checkAndSignIn(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const input = validateLoginInput(rawInput);
  const { models, refusedSignIns } = services;
  try {
    services.passwords.checkCapacity();
  } catch (error) {
    refusedByLimit(error);
  }
  const deviceInfo = input.deviceInfo ?? describeUserAgent(request.userAgent);
  const refusal = { email: input.email, ipAddress: request.ipAddress, deviceInfo };
  const attempt = { email: input.email, ip: request.ipAddress };
  // Checked before the password: a refused attempt costs no bcrypt time, and no MongoDB work.
  await services.signInLimiter.checkSignIn(attempt).catch(async (error: unknown) => {
    if (!isThrottled(error)) throw error;
    await refusedSignIns.note({ ...refusal, type: 'SIGN_IN_THROTTLED' });
    refusedByLimit(error);
  });
  const found = await models.User.findOne({ email: input.email }).select('+password').lean();
  // An unfinished registration is no account (src/account/registration.ts).
  const user = found && !found.registeringSince ? found : null;
  // Always pays for one bcrypt comparison (a dummy hash for an unknown email), so timing does not reveal whether the account exists.
  const matches = await services.passwords.verify(input.password, user?.password ?? null);
  if (!user || !matches) {
    // Noted for unknown emails too (nothing is recorded for them): the same steps either way.
    await refusedSignIns.note({ ...refusal, type: 'FAILED_SIGN_IN', userId: user ? user._id.toHexString() : null });
    await services.signInLimiter.recordFailure(attempt);
    throw new AppError('INVALID_CREDENTIALS');
  }
  await services.signInLimiter.recordSuccess(attempt);
  // An account being deleted signs in no more.
  if (user.deletingAt) throw new AppError('INVALID_CREDENTIALS');
  // Said only to whoever knows the password: it reveals nothing a wrong guess would not.
  if (user.blockedAt) throw new AppError('ACCOUNT_BLOCKED');
  const view = toUserView(user);
  const { token, refreshToken, session } = await createSession(services, view, request, deviceInfo);
  await confirmSignIn(services, user, session, deviceInfo, request);
  return { token, refreshToken, user: view, session };
}
