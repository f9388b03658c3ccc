import type { Connection } from 'mongoose';
import type { Logger } from '../logger.js';
import { revocationModel, type RevocationModel } from './revocation.js';
import { securityEventModel, type SecurityEventModel } from './security-event.js';
import { sessionModel, type SessionModel } from './session.js';
import { spentRefreshTokenModel, type SpentRefreshTokenModel } from './spent-refresh-token.js';
import { userModel, type UserModel } from './user.js';
import { webhookModel, type WebhookModel } from './webhook.js';

export interface Models {
  User: UserModel;
  Session: SessionModel;
  Revocation: RevocationModel;
  SecurityEvent: SecurityEventModel;
  /** The webhook outbox (src/webhooks/). */
  Webhook: WebhookModel;
  SpentRefreshToken: SpentRefreshTokenModel;
}

export function createModels(connection: Connection): Models {
  return {
    User: userModel(connection),
    Session: sessionModel(connection),
    Revocation: revocationModel(connection),
    SecurityEvent: securityEventModel(connection),
    Webhook: webhookModel(connection),
    SpentRefreshToken: spentRefreshTokenModel(connection),
  };
}

/**
 * Creates the indexes the code relies on (unique email, unique sessionId, the
 * per-user listing, the stream queries, the purge). Old sessions are purged by
 * the server (src/models/purge.ts), not by a TTL index, which FerretDB lacks;
 * the TTL index earlier versions created where it was accepted is dropped, as
 * its key would clash with the purge's plain index on expiresAt.
 */
export async function ensureIndexes(models: Models, log: Logger): Promise<void> {
  await models.User.createIndexes();
  await models.Session.collection.dropIndex('expiresAt_ttl').catch(() => {
    // Never created here (FerretDB refused it, or a fresh database).
  });
  await models.Session.createIndexes();
  await models.Revocation.createIndexes();
  await models.SecurityEvent.createIndexes();
  await models.Webhook.createIndexes();
  await models.SpentRefreshToken.createIndexes();
  log.debug('indexes ready');
}
