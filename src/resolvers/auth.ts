import { AppError } from '../errors.js';
import type { Services } from '../services.js';
import { describeUserAgent } from '../auth/device.js';
import { validateLoginInput, validateRegisterInput } from '../auth/validation.js';
import { noteRefusedSignIn, isThrottled } from './security-events.js';
import { confirmSignIn } from '../sessions/sign-in.js';
import { createSession } from '../sessions/sign-in.js';
import type { RequestInfo } from '../auth/viewer.js';
import { toUserView, type AuthPayload } from './views.js';

const isDuplicateKey = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

/** Creates the account and its first session. */
export async function register(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const input = validateRegisterInput(rawInput);
  const { models } = services;
  services.passwords.checkCapacity();
  await services.signInLimiter.checkRegistration(request.ipAddress);
  const password = await services.passwords.hash(input.password);
  const user = await models.User.create({ email: input.email, password, name: input.name }).catch((error: unknown) => {
    // The unique index decides, so two racing registrations cannot both win.
    throw isDuplicateKey(error) ? new AppError('EMAIL_TAKEN') : error;
  });
  const deviceInfo = input.deviceInfo ?? describeUserAgent(request.userAgent);
  const view = toUserView(user);
  let created: Awaited<ReturnType<typeof createSession>>;
  try {
    created = await createSession(services, view, request, deviceInfo);
  } catch (error) {
    // All or nothing: without transactions (FerretDB has none) the account is
    // removed again, so the retry registers instead of meeting EMAIL_TAKEN.
    await models.User.deleteOne({ _id: user._id }).catch((cleanup: unknown) =>
      services.log.error({ err: (cleanup as Error).message, userId: view.id }, 'register: could not remove the half-made account'),
    );
    throw error;
  }
  await confirmSignIn(services, user, created.session, deviceInfo, request);
  return { token: created.token, user: view, session: created.session };
}

/** Checks the password and opens a new session. Unknown email and wrong password look the same. */
export async function login(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const input = validateLoginInput(rawInput);
  const { models } = services;
  services.passwords.checkCapacity();
  const deviceInfo = input.deviceInfo ?? describeUserAgent(request.userAgent);
  const refused = { email: input.email, request, deviceInfo };
  const attempt = { email: input.email, ip: request.ipAddress };
  // Checked before the password: a refused attempt costs no bcrypt time.
  await services.signInLimiter.checkSignIn(attempt).catch((error: unknown) => {
    if (isThrottled(error)) noteRefusedSignIn(services, { ...refused, type: 'SIGN_IN_THROTTLED' });
    throw error;
  });
  const user = await models.User.findOne({ email: input.email }).select('+password').lean();
  // Always pays for one bcrypt comparison (a dummy hash for an unknown email), so timing does not reveal whether the account exists.
  const matches = await services.passwords.verify(input.password, user?.password ?? null);
  if (!user || !matches) {
    if (user) noteRefusedSignIn(services, { ...refused, type: 'FAILED_SIGN_IN' });
    await services.signInLimiter.recordFailure(attempt);
    throw new AppError('INVALID_CREDENTIALS');
  }
  await services.signInLimiter.recordSuccess(attempt);
  // An account being deleted signs in no more.
  if (user.deletingAt) throw new AppError('INVALID_CREDENTIALS');
  const view = toUserView(user);
  const { token, session } = await createSession(services, view, request, deviceInfo);
  await confirmSignIn(services, user, session, deviceInfo, request);
  return { token, user: view, session };
}
