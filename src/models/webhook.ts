import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * One webhook delivery waiting to be made: one event for one endpoint
 * (WEBHOOK_URL), in the webhook outbox (src/webhooks/). Written by one insert
 * where the event happens, removed once the endpoint answered 2xx (or the
 * caps of src/webhooks/delivery.ts gave up on it). Nothing here needs a
 * transaction or a conditional update: a delivery is claimed by a lease in
 * Redis on its user's queue, and every write is by `_id`.
 */
export interface WebhookRecord {
  _id: Types.ObjectId;
  /** The Standard Webhooks message id (`webhook-id`): the same on every attempt, and for the same event enqueued again. */
  msgId: string;
  /** The URL it goes to (one of WEBHOOK_URL). */
  endpoint: string;
  /** The user the event is about: each user's events are delivered in `seq` order, per endpoint. */
  userId: string;
  seq: number;
  type: string;
  /** The exact body sent (and signed), `{"type", "timestamp", "data"}`. */
  body: string;
  attempts: number;
  /**
   * Written before the change it announces (src/webhooks/outbox.ts `intend`):
   * what must be true for it to be sent (`session:<id>`, `password:<sha-256 of
   * the new hash>`, `blocked:<ms>`), until the change's caller confirms it (null).
   */
  pending: string | null;
  /** When it may be attempted next. */
  dueAt: Date;
  createdAt: Date;
}

export type WebhookModel = Model<WebhookRecord>;

const webhookSchema = new Schema<WebhookRecord>(
  {
    msgId: { type: String, required: true },
    endpoint: { type: String, required: true },
    userId: { type: String, required: true },
    seq: { type: Number, required: true },
    type: { type: String, required: true },
    body: { type: String, required: true },
    attempts: { type: Number, required: true, default: 0 },
    pending: { type: String, default: null },
    dueAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
  },
  { strict: 'throw', strictQuery: 'throw', versionKey: false },
);
// The same event enqueued again (a sweeper finishing a revocation) is refused as a duplicate.
webhookSchema.index({ msgId: 1, endpoint: 1 }, { unique: true });
// One user's queue for one endpoint, in order: its head is the lowest seq.
webhookSchema.index({ userId: 1, endpoint: 1, seq: 1 }, { unique: true });
// The delivery job: what is due.
webhookSchema.index({ dueAt: 1 });
// The age cap.
webhookSchema.index({ createdAt: 1 });

export function webhookModel(connection: Connection): WebhookModel {
  return connection.model<WebhookRecord>('Webhook', webhookSchema);
}
