import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { errorCodes, loginUser, ok, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { expectNoStreamLeft, readToEnd, take } from './support/events.js';
import { LogoutAllDocument, SessionRevokedDocument, SessionsDocument } from './support/operations.js';
import { streamCapFlows } from './flows/stream-caps.js';
import { recordCommands, useTestServer } from './support/server.js';
import { openRestEvents, subscribeOverSse } from './support/sse.js';

const SUBSCRIPTION = print(SessionRevokedDocument);

describe('open streams per session and per user', () => streamCapFlows());

describe('streams that never start, or whose client leaves during set-up', () => {
  const server = useTestServer({ ownRedis: true });

  it('answers a subscription over a non-SSE transport with 400 and keeps nothing of it', async () => {
    const user = await registerUser(server.graphqlUrl);
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(server.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ query: SUBSCRIPTION }),
        }),
      ),
    );
    for (const response of responses) {
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    }
    await expectNoStreamLeft(server);
    // The caps were not used up by them: a real stream still opens.
    const stream = await openRestEvents(server, user.token);
    stream.close();
    await expectNoStreamLeft(server);
  });

  it('leaves nothing behind when clients disconnect while their streams are being set up', async () => {
    const user = await registerUser(server.graphqlUrl);
    for (let i = 0; i < 20; i += 1) {
      const controller = new AbortController();
      const pending = [
        subscribeOverSse(server, user.token, controller.signal).catch(() => null),
        fetch(`${server.url}/api/auth/events`, { headers: { authorization: `Bearer ${user.token}` }, signal: controller.signal }).catch(() => null),
      ];
      // Leave at different moments of the set-up: at once, or after the first bytes.
      if (i % 2) await Promise.race(pending);
      controller.abort();
      await Promise.all(pending);
    }
    await expectNoStreamLeft(server);
  });

  it('ends a GraphQL stream the client returns, and gives its place back', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const client = sseClient(server.graphqlUrl, user.token);
    const iterator = revocations(client);
    const first = take(iterator, 1);
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(1);
    await ok(server.graphqlUrl, LogoutAllDocument, { exceptCurrent: true }, user.token);
    expect((await first)[0]?.data?.sessionRevoked?.sessionId).toBe(other.session.id);
    await iterator.return?.();
    client.dispose();
    await expectNoStreamLeft(server);
  });
});

describe('active sessions per user', () => {
  const server = useTestServer({ env: { SESSIONS_PER_USER: '3' }, monitorCommands: true });

  it('revokes the oldest session when a sign-in goes beyond the cap, and announces it', async () => {
    const first = await registerUser(server.graphqlUrl);
    const second = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const third = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const client = sseClient(server.graphqlUrl, first.token);
    const events = readToEnd(revocations(client));
    await expect.poll(() => server.services.pubsub.listenerCount()).toBe(1);

    const fourth = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    expect((await events).map((e) => e.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: first.session.id, reason: 'SESSION_LIMIT', current: true }),
    ]);
    client.dispose();
    const listed = await ok(server.graphqlUrl, SessionsDocument, {}, fourth.token);
    expect(listed.sessions.map((s) => s.id)).toEqual([fourth.session.id, third.session.id, second.session.id]);
  });

  it('keeps the cap for a user who keeps signing in, reading their sessions from MongoDB once', async () => {
    const sessionReads = recordCommands(server, (event) =>
      event.commandName === 'find' && event.command.find === 'sessions' ? JSON.stringify(event.command.filter) : null,
    );
    const first = await registerUser(server.graphqlUrl);
    const signIn = () => loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const later = [await signIn(), await signIn()];
    expect(sessionReads).toEqual([]);
    // Past the cap: one read of the user's sessions, which fills their list in Redis...
    later.push(await signIn());
    expect(sessionReads).toHaveLength(1);
    // ...and then none, sign-in after sign-in, each revoking the oldest.
    for (let i = 0; i < 3; i += 1) later.push(await signIn());
    expect(sessionReads).toHaveLength(1);
    const listed = await ok(server.graphqlUrl, SessionsDocument, {}, later.at(-1)!.token);
    expect(listed.sessions.map((s) => s.id)).toEqual(later.slice(-3).reverse().map((u) => u.session.id));
    for (const gone of [first, ...later.slice(0, -3)]) {
      expect(await errorCodes(server.graphqlUrl, SessionsDocument, {}, gone.token)).toEqual(['UNAUTHENTICATED']);
    }
  });
});
