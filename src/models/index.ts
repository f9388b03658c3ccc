import type { Connection } from 'mongoose';
import type { Logger } from '../logger.js';
import { securityEventModel, type SecurityEventModel } from './security-event.js';
import { sessionModel, type SessionModel } from './session.js';
import { userModel, type UserModel } from './user.js';

export interface Models {
  User: UserModel;
  Session: SessionModel;
  SecurityEvent: SecurityEventModel;
}

export function createModels(connection: Connection): Models {
  return { User: userModel(connection), Session: sessionModel(connection), SecurityEvent: securityEventModel(connection) };
}

// Expired and revoked sessions are kept this long for the record, then MongoDB drops them.
const SESSION_RETENTION_SECONDS = 30 * 86400;

/**
 * Creates the indexes the code relies on (unique email, unique sessionId, the
 * per-user listing). The TTL index is housekeeping only: FerretDB and some
 * managed services refuse it, so its failure is logged once and tolerated.
 */
export async function ensureIndexes(models: Models, log: Logger): Promise<void> {
  await models.User.createIndexes();
  await models.Session.createIndexes();
  await models.SecurityEvent.createIndexes();
  try {
    await models.Session.collection.createIndex(
      { expiresAt: 1 },
      { expireAfterSeconds: SESSION_RETENTION_SECONDS, name: 'expiresAt_ttl' },
    );
  } catch (error) {
    log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'TTL index on sessions.expiresAt refused: old sessions are not purged automatically (expiry is still enforced by the server)',
    );
  }
}
