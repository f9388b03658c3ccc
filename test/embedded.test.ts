import { describe, expect, it } from 'vitest';
import { errorCodes, loginUser, ok, PASSWORD, registerUser } from './support/client.js';
import { LogoutAllDocument, MeDocument, SessionsDocument } from './support/operations.js';
import { useTestServer } from './support/server.js';
import { isEvent, openEventStream } from './support/sse.js';

// The development default: no REDIS_URL, so the session cache and pub/sub are in-process.
describe('without Redis (one instance, in-process cache and pub/sub)', () => {
  const server = useTestServer({ env: { REDIS_URL: undefined } });

  it('signs devices out and tells them, as with Redis', async () => {
    const url = server.graphqlUrl;
    const first = await registerUser(url);
    const other = await loginUser(url, { email: first.email, password: PASSWORD });
    expect(server.services.redis).toBeNull();

    // `connected` is sent once the stream listens: what happens after it is delivered.
    const stream = await openEventStream(`${server.url}/api/auth/events?token=${other.token}`);
    await stream.until(isEvent('connected'));

    const { logoutAll } = await ok(url, LogoutAllDocument, { exceptCurrent: true }, first.token);
    expect(logoutAll.revokedSessionIds).toEqual([other.session.id]);
    const events = await stream.readToEnd();
    expect(events.filter(isEvent('session-revoked')).map((e) => (e.kind === 'event' ? JSON.parse(e.data) : null))).toEqual([
      expect.objectContaining({ sessionId: other.session.id, reason: 'LOGOUT_ALL', current: true }),
    ]);

    expect(await errorCodes(url, MeDocument, {}, other.token)).toEqual(['UNAUTHENTICATED']);
    expect((await ok(url, SessionsDocument, {}, first.token)).sessions.map((s) => s.id)).toEqual([first.session.id]);
  });
});
