/**
 * How soon a device hears that a session was revoked, across instances.
 *
 *   MONGODB_URI=… REDIS_URL=… npx tsx bench/revocation-latency.ts
 *
 * Three server instances share MongoDB and Redis (bench/notice-latency.ts). A
 * device listens on instance two (REST `/api/auth/events`) and on instance
 * three (the GraphQL `sessionRevoked` subscription); instance one revokes
 * another session of the same user (`DELETE /api/auth/sessions/:id`).
 * Measured from sending the revoke request:
 *  - baseline: the revoke request's own round trip (its answer means the
 *    revocation holds everywhere);
 *  - the event's arrival on each stream.
 * The contract promises "within the same second"; the ratio says how the event
 * compares with simply getting the answer back.
 */
import { login } from '../src/resolvers/auth.js';
import { measureNoticeLatency } from './notice-latency.js';

void measureNoticeLatency({
  title: 'revocation latency across instances',
  topic: 'sessionRevoked',
  subscription: 'subscription { sessionRevoked { sessionId } }',
  baseline: 'baseline: revoke request answered',
  rest: 'event on REST /api/auth/events (two)',
  graphql: 'event on GraphQL subscription (three)',
  async round(_i, { one, url, email, password, token }) {
    const victim = await login(one, { email, password }, { ipAddress: '127.0.0.1', userAgent: 'bench' });
    const sessionId = victim.session.id;
    return {
      restNotice: (item) => item.kind === 'event' && item.event === 'session-revoked' && item.data.includes(sessionId),
      async send() {
        const response = await fetch(`${url}/api/auth/sessions/${sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
        await response.text();
      },
    };
  },
});
