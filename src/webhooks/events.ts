import { createHash } from 'node:crypto';
import type { Models } from '../models/index.js';
import { activeSessionRecords } from '../revocation/durable.js';
import type { Revocation } from '../revocation/ledger.js';
import type { WebhookEvent } from './outbox.js';

/**
 * The events' `data`, one builder per type (docs/contract.md, "Webhooks"),
 * so that what a receiver gets is written in one place.
 */

/**
 * `session.revoked`, one per session of a recorded revocation, with its reason
 * and whether it left the user without an active session (`lastSession`, on the
 * last one only). Keyed by the revocation's number: a sweeper completing it
 * again enqueues nothing new.
 */
export async function revocationEvents(models: Pick<Models, 'Session' | 'Revocation'>, revocation: Revocation): Promise<WebhookEvent[]> {
  const { userId, seq, sessionIds, reason, revokedAt } = revocation;
  // The record is written already: the sessions it names no longer count as active.
  const remaining = await activeSessionRecords(models, userId, {});
  const at = new Date(revokedAt);
  return sessionIds.map((sessionId, i) => ({
    type: 'session.revoked',
    key: `session.revoked:${userId}:${seq}:${sessionId}`,
    at,
    data: { userId, sessionId, reason, revokedAt, lastSession: remaining.length === 0 && i === sessionIds.length - 1 },
  }));
}

export const sessionCreatedEvent = (userId: string, session: Record<string, unknown> & { id: string; createdAt: string }): WebhookEvent => ({
  type: 'session.created',
  key: `session.created:${session.id}`,
  at: new Date(session.createdAt),
  data: { userId, session },
  pending: `session:${session.id}`,
});

/** The fingerprint of a password hash that `password.changed` is keyed and checked by (never the hash itself). */
export const passwordFingerprint = (hash: string): string => createHash('sha256').update(hash).digest('hex');

/** `password.changed` for the new hash set at `at`; `revokedCount` null until known (the intent, src/webhooks/outbox.ts). */
export const passwordChangedEvent = (userId: string, hash: string, at: Date, revokedCount: number | null): WebhookEvent => ({
  type: 'password.changed',
  key: `password.changed:${userId}:${passwordFingerprint(hash)}`,
  at,
  data: { userId, revokedCount },
  pending: `password:${passwordFingerprint(hash)}`,
});

export const accountDeletedEvent = (userId: string): WebhookEvent => ({
  type: 'account.deleted',
  key: `account.deleted:${userId}`,
  data: { userId },
});

/** `user.blocked` for the block set at `blockedAt`; `revokedSessionIds` null until known (the intent). */
export const userBlockedEvent = (userId: string, blockedAt: Date, revokedSessionIds: readonly string[] | null): WebhookEvent => ({
  type: 'user.blocked',
  key: `user.blocked:${userId}:${blockedAt.getTime()}`,
  at: blockedAt,
  data: { userId, revokedSessionIds },
  pending: `blocked:${blockedAt.getTime()}`,
});
