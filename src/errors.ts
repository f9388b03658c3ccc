import { GraphQLError } from 'graphql';

/** The closed set of error codes of API.md, each with the HTTP status REST answers. */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
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
  NOT_FOUND: 'Not found',
  EMAIL_TAKEN: 'An account with this email already exists',
  PAYLOAD_TOO_LARGE: 'Request body is too large',
  RATE_LIMITED: 'Too many attempts: try again later',
  INTERNAL_SERVER_ERROR: 'Unexpected error',
  SERVICE_UNAVAILABLE: 'A service this request needs is unavailable: retry later',
};

/**
 * An error a client is meant to see. It is a GraphQLError so that Yoga's
 * masking lets it through with `extensions.code`; anything else thrown is
 * masked as INTERNAL_SERVER_ERROR.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  /** Seconds, for RATE_LIMITED. */
  readonly retryAfter: number | undefined;
  /** The HTTP status, when it is more precise than the code's (415 for a BAD_USER_INPUT media type). */
  readonly #status: number | undefined;

  constructor(code: ErrorCode, message?: string, options: { field?: string; retryAfter?: number; status?: number } = {}) {
    const extensions: Record<string, unknown> = { code };
    if (options.field !== undefined) extensions.field = options.field;
    if (options.retryAfter !== undefined) {
      extensions.retryAfter = options.retryAfter;
      // Yoga turns `extensions.http` into the response's status and headers (and strips it from the body).
      extensions.http = { status: ERROR_STATUS[code], headers: { 'Retry-After': String(options.retryAfter) } };
    } else if (options.status !== undefined) {
      extensions.http = { status: options.status };
    }
    super(message ?? DEFAULT_MESSAGES[code], { extensions });
    // `name` stays 'GraphQLError': Yoga's masking recognises client errors by it.
    this.code = code;
    this.retryAfter = options.retryAfter;
    this.#status = options.status;
  }

  get status(): number {
    return this.#status ?? ERROR_STATUS[this.code];
  }
}

export const badInput = (field: string, message: string): AppError =>
  new AppError('BAD_USER_INPUT', message, { field });
export const unauthenticated = (): AppError => new AppError('UNAUTHENTICATED');
export const notFound = (message?: string): AppError => new AppError('NOT_FOUND', message);
export const serviceUnavailable = (): AppError => new AppError('SERVICE_UNAVAILABLE');
/**
 * A body that is not JSON. API.md's closed set has no code for it, so it is
 * the closest one, BAD_USER_INPUT, with HTTP's precise status, 415.
 */
export const unsupportedMediaType = (): AppError =>
  new AppError('BAD_USER_INPUT', 'The request body must be sent as application/json', { field: 'content-type', status: 415 });

/** Driver errors that mean "the dependency is unreachable", not "the request is wrong". */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name;
  return (
    name === 'MongoServerSelectionError' ||
    name === 'MongoNetworkError' ||
    name === 'MongoNetworkTimeoutError' ||
    name === 'MongoNotConnectedError' ||
    name === 'MongoTopologyClosedError' ||
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|Stream isn't writeable|enableOfflineQueue/.test(error.message)
  );
}

/** Turns unreachable dependencies into SERVICE_UNAVAILABLE and leaves everything else alone. */
export function toAppError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (isUnavailableError(error)) return serviceUnavailable();
  return error;
}
