import { describe, expect, it } from 'vitest';
import type { PubSub } from '../src/pubsub.js';
import { loginUser, ok, PASSWORD, registerUser, sseClient, revocations } from './support/client.js';
import { readToEnd, take } from './support/events.js';
import { LogoutAllDocument, RevokeSessionDocument } from './support/operations.js';
import { type TestServer, useTestServer } from './support/server.js';

/**
 * Opens the window between a subscriber's authentication and the start of its
 * subscription, and runs `during` inside it: the real server, with its pub/sub
 * subscribe step held back until `during` has finished.
 */
function holdSubscribe(server: TestServer, during: () => Promise<unknown>): () => void {
  const real: PubSub = server.services.pubsub;
  let fired = false;
  server.services.pubsub = {
    ...real,
    async subscribe(topic, key, onMessage) {
      if (!fired) {
        fired = true;
        await during();
      }
      return real.subscribe(topic, key, onMessage);
    },
  };
  return () => {
    server.services.pubsub = real;
  };
}

describe('no revocation falls between authentication and subscription', () => {
  const server = useTestServer();

  it('delivers the subscriber\'s own revocation made in the gap, then completes', async () => {
    const url = server.graphqlUrl;
    const a = await registerUser(url);
    const b = await loginUser(url, { email: a.email, password: PASSWORD });
    const restore = holdSubscribe(server, () => ok(url, LogoutAllDocument, {}, a.token));
    try {
      const client = sseClient(url, b.token);
      const events = await readToEnd(revocations(client));
      expect(events.map((e) => e.data?.sessionRevoked)).toContainEqual(
        expect.objectContaining({ sessionId: b.session.id, reason: 'LOGOUT_ALL', current: true }),
      );
      expect(events.at(-1)?.data?.sessionRevoked?.current).toBe(true);
      client.dispose();
    } finally {
      restore();
    }
  });

  it('delivers another session\'s revocation made in the gap and stays open', async () => {
    const url = server.graphqlUrl;
    const a = await registerUser(url);
    const b = await loginUser(url, { email: a.email, password: PASSWORD });
    const restore = holdSubscribe(server, () => ok(url, RevokeSessionDocument, { id: b.session.id }, a.token));
    try {
      const client = sseClient(url, a.token);
      const iterator = revocations(client);
      const [event] = await take(iterator, 1);
      expect(event?.data?.sessionRevoked).toMatchObject({ sessionId: b.session.id, reason: 'REVOKED', current: false });
      // Still open: the next event is the subscriber's own logout.
      const rest = readToEnd({ [Symbol.asyncIterator]: () => iterator });
      await ok(url, LogoutAllDocument, {}, a.token);
      expect((await rest).map((e) => e.data?.sessionRevoked?.sessionId)).toEqual([a.session.id]);
      client.dispose();
    } finally {
      restore();
    }
  });
});
