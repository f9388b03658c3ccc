import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the receiver
 * recomputes HMAC-SHA256 over `id.timestamp.body` with the secret (the bytes
 * after `whsec_`, base64-decoded) and compares it with `webhook-signature`.
 */
export function signatureOf(secret: Buffer, msgId: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The headers of one attempt: a fresh timestamp each time (receivers refuse old ones), the same id. */
export function webhookHeaders(secret: Buffer, msgId: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureOf(secret, msgId, timestamp, body),
  };
}
