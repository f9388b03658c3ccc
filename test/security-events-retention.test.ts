import { describe, expect, it } from 'vitest';
import { purgeOldSecurityEvents } from '../src/models/purge.js';
import { ok, registerUser } from './support/client.js';
import { SecurityEventsDocument } from './support/operations.js';
import { useTestServer } from './support/server.js';

describe('security events retention (SECURITY_EVENTS_RETENTION)', () => {
  const server = useTestServer({ env: { SECURITY_EVENTS_RETENTION: '1h' } });

  it('purges entries older than the retention, oldest first, in bounded batches', async () => {
    const user = await registerUser(server.graphqlUrl, { deviceInfo: 'laptop' });
    const { SecurityEvent } = server.services.models;
    const hoursAgo = (h: number, i = 0): Date => new Date(Date.now() - h * 3_600_000 - i);
    const base = { userId: user.user.id, type: 'SIGNED_IN', ipAddress: '192.0.2.1', deviceInfo: 'old phone', sessionId: null };
    await SecurityEvent.insertMany([
      ...[0, 1, 2, 3, 4].map((i) => ({ ...base, at: hoursAgo(2, i) })),
      { ...base, at: hoursAgo(0.5), deviceInfo: 'recent tablet' },
    ]);
    const timeline = async (): Promise<string[]> =>
      (await ok(server.graphqlUrl, SecurityEventsDocument, { first: 100 }, user.token)).securityEvents.events.map((e) => e.deviceInfo);
    expect(await timeline()).toEqual(['laptop', 'recent tablet', 'old phone', 'old phone', 'old phone', 'old phone', 'old phone']);

    // Two batches of two per run: a run never holds the database long; the next one continues.
    expect(await purgeOldSecurityEvents(server.services.models, server.services.config.securityEventsRetentionSeconds * 1000, { batchSize: 2, maxBatches: 2 })).toBe(4);
    expect(await timeline()).toEqual(['laptop', 'recent tablet', 'old phone']);
    expect(await purgeOldSecurityEvents(server.services.models, server.services.config.securityEventsRetentionSeconds * 1000, { batchSize: 2, maxBatches: 2 })).toBe(1);
    expect(await purgeOldSecurityEvents(server.services.models, server.services.config.securityEventsRetentionSeconds * 1000, { batchSize: 2, maxBatches: 2 })).toBe(0);
    expect(await timeline()).toEqual(['laptop', 'recent tablet']);
  });
});
