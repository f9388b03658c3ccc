import { AppError } from '../errors.js';
import { limitAttempt } from '../auth/rate-limit.js';
import type { Services } from '../services.js';
import { describeUserAgent } from '../auth/device.js';
import { validateLoginInput, validateRegisterInput } from '../auth/validation.js';
import { noteRefusedSignIn, isThrottled } from './security-events.js';
import { confirmSignIn } from './session-created.js';
import { createSession } from './sessions.js';
import type { RequestInfo } from '../auth/viewer.js';
import { toUserView, type AuthPayload } from './views.js';

const isDuplicateKey = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

/** Creates the account and its first session. */
export async function register(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const input = validateRegisterInput(rawInput);
  const { models, config } = services;
  services.passwords.checkCapacity();
  await limitAttempt(services.rateLimiter, config.rateLimit, { action: 'register', email: input.email, ip: request.ipAddress });
  const password = await services.passwords.hash(input.password);
  const user = await models.User.create({ email: input.email, password, name: input.name }).catch((error: unknown) => {
    // The unique index decides, so two racing registrations cannot both win.
    throw isDuplicateKey(error) ? new AppError('EMAIL_TAKEN') : error;
  });
  const deviceInfo = input.deviceInfo ?? describeUserAgent(request.userAgent);
  const view = toUserView(user);
  const { token, session } = await createSession(services, view, request, deviceInfo);
  await confirmSignIn(services, user, session, deviceInfo, request);
  return { token, user: view, session };
}

/** Checks the password and opens a new session. Unknown email and wrong password look the same. */
export async function login(services: Services, rawInput: unknown, request: RequestInfo): Promise<AuthPayload> {
  const input = validateLoginInput(rawInput);
  const { models, config } = services;
  services.passwords.checkCapacity();
  const deviceInfo = input.deviceInfo ?? describeUserAgent(request.userAgent);
  const refused = { email: input.email, request, deviceInfo };
  // Counted before the password is checked: a refused attempt costs no bcrypt time.
  await limitAttempt(services.rateLimiter, config.rateLimit, { action: 'login', email: input.email, ip: request.ipAddress }).catch(
    (error: unknown) => {
      if (isThrottled(error)) noteRefusedSignIn(services, { ...refused, type: 'SIGN_IN_THROTTLED' });
      throw error;
    },
  );
  const user = await models.User.findOne({ email: input.email }).select('+password').lean();
  // Always pays for one bcrypt comparison (a dummy hash for an unknown email), so timing does not reveal whether the account exists.
  const matches = await services.passwords.verify(input.password, user?.password ?? null);
  if (user && !matches) noteRefusedSignIn(services, { ...refused, type: 'FAILED_SIGN_IN' });
  // An account being deleted signs in no more.
  if (!user || !matches || user.deletingAt) throw new AppError('INVALID_CREDENTIALS');
  const view = toUserView(user);
  const { token, session } = await createSession(services, view, request, deviceInfo);
  await confirmSignIn(services, user, session, deviceInfo, request);
  return { token, user: view, session };
}
