/**
 * How soon the other devices hear of a new sign-in, across instances.
 *
 *   MONGODB_URI=… REDIS_URL=… npx tsx bench/session-created-latency.ts
 *
 * Three server instances share MongoDB and Redis (bench/notice-latency.ts). A
 * device listens on instance two (REST `/api/auth/events`, `event:
 * session-created`) and on instance three (the GraphQL `sessionCreated`
 * subscription); another device signs in on instance one (`POST
 * /api/auth/login`). Measured from sending the login:
 *  - baseline: the login request's own round trip;
 *  - the notice's arrival on each stream.
 * The contract promises "within the same second"; the ratio says how the
 * notice compares with the sign-in's own answer.
 */
import { isEvent } from '../test/support/sse.js';
import { measureNoticeLatency } from './notice-latency.js';

void measureNoticeLatency({
  title: 'new sign-in notice latency across instances',
  topic: 'sessionCreated',
  subscription: 'subscription { sessionCreated { id } }',
  baseline: 'baseline: login request answered',
  rest: 'session-created on REST (two)',
  graphql: 'sessionCreated on GraphQL (three)',
  async round(i, { url, email, password }) {
    const deviceInfo = `device ${i}`;
    return {
      restNotice: (item) => isEvent('session-created')(item) && item.kind === 'event' && item.data.includes(`"${deviceInfo}"`),
      async send() {
        const response = await fetch(`${url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password, deviceInfo }),
        });
        await response.text();
      },
    };
  },
});
