import { GraphQLError } from 'graphql';
import type { Logger } from '../logger.js';
import { httpErrorOf, toAppError } from '../errors.js';

/**
 * Yoga's `logging.error`: Yoga calls it with every error it masks, which
 * includes each AppError the resolvers raise on purpose (our masking turns it
 * into a GraphQL error with its code), and may call it twice for one error.
 * What the client did wrong (a 4xx: no token, a wrong password, a revoked
 * token) is the answer, not a failure of the server: logged at debug with its
 * code, never a stack. A known outage (SERVICE_UNAVAILABLE) is a warning with
 * its message. Anything else is unexpected: at error, with its stack, once.
 */
export function yogaErrorLog(log: Logger): (...args: unknown[]) => void {
  const logged = new WeakSet<object>();
  return (...args) => {
    for (const arg of args) {
      const error = arg instanceof GraphQLError && arg.originalError ? arg.originalError : arg;
      if (typeof error === 'object' && error !== null) {
        if (logged.has(error)) continue;
        logged.add(error);
      }
      const known = toAppError(error);
      if (known) {
        const { status, code } = httpErrorOf(known);
        if (status < 500) log.debug({ code, status }, 'graphql: client error');
        else log.warn({ code, status, err: error instanceof Error ? error.message : String(error) }, 'graphql: service unavailable');
        continue;
      }
      log.error({ err: error instanceof Error ? error.stack : String(error) }, 'graphql: unexpected error');
    }
  };
}
