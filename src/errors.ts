/** The closed set of error codes of docs/contract.md, each with the HTTP status REST answers. */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  ACCOUNT_BLOCKED: 403,
  REAUTHENTICATION_REQUIRED: 403,
  NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'Invalid input',
  UNAUTHENTICATED: 'Not authenticated: sign in again',
  INVALID_CREDENTIALS: 'Invalid email or password',
  ACCOUNT_BLOCKED: 'This account is blocked: contact support',
  REAUTHENTICATION_REQUIRED: 'This action needs a fresh sign-in: send the current password (currentPassword), or sign in or refresh again',
  NOT_FOUND: 'Not found',
  EMAIL_TAKEN: 'An account with this email already exists',
  PAYLOAD_TOO_LARGE: 'Request body is too large',
  RATE_LIMITED: 'Too many attempts: try again later',
  INTERNAL_SERVER_ERROR: 'Unexpected error',
  SERVICE_UNAVAILABLE: 'A service this request needs is unavailable: retry later',
};

/**
 * An error a client is meant to see, as a plain value with its contract code.
 * It knows nothing of GraphQL or HTTP: src/graphql/error-codes.ts turns it into
 * a GraphQLError, and `httpErrorOf` below into a status and headers.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  /** The input field at fault, for BAD_USER_INPUT. */
  readonly field: string | undefined;
  /** Seconds, for RATE_LIMITED. */
  readonly retryAfter: number | undefined;
  /** The HTTP status, where HTTP has a more precise one than the code's (415 for a BAD_USER_INPUT media type). */
  readonly status: number | undefined;
  /**
   * The whole request is refused, not one field: GraphQL answers it with the
   * code's HTTP status too (as it does any error with a Retry-After).
   */
  readonly refusesRequest: boolean;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { field?: string; retryAfter?: number; refusesRequest?: boolean; status?: number } = {},
  ) {
    super(message ?? DEFAULT_MESSAGES[code]);
    this.code = code;
    this.field = options.field;
    this.retryAfter = options.retryAfter;
    this.refusesRequest = options.refusesRequest ?? options.retryAfter !== undefined;
    this.status = options.status;
  }
}

export const badInput = (field: string, message: string): AppError =>
  new AppError('BAD_USER_INPUT', message, { field });
export const unauthenticated = (): AppError => new AppError('UNAUTHENTICATED');
export const notFound = (message?: string): AppError => new AppError('NOT_FOUND', message);
export const serviceUnavailable = (): AppError => new AppError('SERVICE_UNAVAILABLE');
/**
 * A body that is not JSON. docs/contract.md's closed set has no code for it, so it is
 * the closest one, BAD_USER_INPUT, with HTTP's precise status, 415.
 */
export const unsupportedMediaType = (): AppError =>
  new AppError('BAD_USER_INPUT', 'The request body must be sent as application/json', { field: 'content-type', status: 415 });

/**
 * The MongoDB driver's errors that mean "no answer in time, or no way to ask",
 * by name: no server to select, a network failure or a socket that stayed
 * silent past MONGODB_TIMEOUT, no free pooled connection in time, a pool
 * cleared by such a failure, a client closed by shutdown.
 */
const UNAVAILABLE_DRIVER_ERRORS: ReadonlySet<string> = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoWaitQueueTimeoutError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClosedError',
  'MongoOperationTimeoutError',
  'MongoServerClosedError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
]);

/** Driver errors that mean "the dependency is unreachable", not "the request is wrong". */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    UNAVAILABLE_DRIVER_ERRORS.has(error.name) ||
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    /Connection is closed|ECONNREFUSED|Stream isn't writeable|enableOfflineQueue/.test(error.message) ||
    // A Redis Cluster failing over: a slot without a master (CLUSTERDOWN, TRYAGAIN), ioredis out of retries, or no node at all.
    /CLUSTERDOWN|TRYAGAIN|Too many Cluster redirections|None of startup nodes is available|Cluster is ended/.test(error.message)
  );
}

/**
 * The error a client may see, or null for one it must not (a bug: logged and
 * masked). The one place that decides "dependency unreachable → SERVICE_UNAVAILABLE".
 */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (isUnavailableError(error)) return serviceUnavailable();
  return null;
}

/** The one rounding rule for "retry after": whole seconds, rounded up, at least one. */
export function wholeSecondsUp(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

/** What an error is over HTTP: the contract's code and message, a status and the headers that go with it. */
export interface HttpError {
  status: number;
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
}

/**
 * The one error → HTTP mapping, for REST bodies, GraphQL request errors and
 * Yoga's `extensions.http` alike (the model is Hono's HTTPException.getResponse()).
 * An unreachable dependency is SERVICE_UNAVAILABLE; anything else that is not an
 * AppError is INTERNAL_SERVER_ERROR, with nothing of the original leaking out.
 */
export function httpErrorOf(error: unknown): HttpError {
  const app = toAppError(error) ?? new AppError('INTERNAL_SERVER_ERROR');
  const status = app.status ?? ERROR_STATUS[app.code];
  const headers: Record<string, string> = {};
  // RFC 9110: a 401 names the scheme that would work.
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="logout-all"';
  if (app.retryAfter !== undefined) headers['retry-after'] = String(wholeSecondsUp(app.retryAfter));
  return { status, code: app.code, message: app.message, headers };
}
