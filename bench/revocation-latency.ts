/**
 * How soon a device hears that a session was revoked, across instances.
 *
 *   MONGODB_URI=… REDIS_URL=… npx tsx bench/revocation-latency.ts
 *
 * Three server instances share MongoDB and Redis. A device listens on instance
 * two (REST `/api/auth/events`) and on instance three (the GraphQL
 * `sessionRevoked` subscription); instance one revokes another session of the same user (`DELETE
 * /api/auth/sessions/:id`). Measured from sending the revoke request:
 *  - baseline: the revoke request's own round trip (its answer means the
 *    revocation holds everywhere);
 *  - the event's arrival on each stream of instance two.
 * docs/contract.md promises "within the same second"; the ratio says how the event compares
 * with simply getting the answer back.
 */
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-sse';
import { login, register } from '../src/resolvers/auth.js';
import { isEvent, openEventStream } from '../test/support/sse.js';
import { benchServices, listen, printLatencies } from './support.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);

async function main(): Promise<void> {
  const one = await benchServices({ SERVER_ID: 'one' });
  const two = await benchServices({ SERVER_ID: 'two' }, one.connection.name);
  const three = await benchServices({ SERVER_ID: 'three' }, one.connection.name);
  const [httpOne, httpTwo, httpThree] = await Promise.all([listen(one), listen(two), listen(three)]);
  const request = { ipAddress: '127.0.0.1', userAgent: 'bench' };
  try {
    const email = `latency.${Date.now()}@example.com`;
    const watcher = await register(one, { name: 'Latency', email, password: 'latency-password' }, request);

    const rest = await openEventStream(`${httpTwo.url}/api/auth/events?token=${watcher.token}`);
    await rest.until(isEvent('connected'));
    const client = createClient({ url: `${httpThree.url}/graphql`, headers: { authorization: `Bearer ${watcher.token}` } });
    const graphql = client.iterate<{ sessionRevoked: { sessionId: string } }>({
      query: 'subscription { sessionRevoked { sessionId } }',
    });
    // graphql-sse connects on the first next(); the subscription is live once Redis
    // counts two connections listening for this user (instance two's and three's).
    let nextGraphql = graphql.next();
    for (;;) {
      const [, count] = (await one.redis?.call('PUBSUB', 'NUMSUB', `la:sessionRevoked:${watcher.user.id}`)) as [string, number];
      if (Number(count) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const answer: number[] = [];
    const viaRest: number[] = [];
    const viaGraphql: number[] = [];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const victim = await login(one, { email, password: 'latency-password' }, request);
      const sessionId = victim.session.id;
      const start = performance.now();
      const restEvent = rest
        .until((item) => item.kind === 'event' && item.event === 'session-revoked' && item.data.includes(sessionId))
        .then(() => performance.now() - start);
      const graphqlEvent = nextGraphql.then(() => performance.now() - start);
      const response = await fetch(`${httpOne.url}/api/auth/sessions/${sessionId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${watcher.token}` },
      });
      await response.text();
      answer.push(performance.now() - start);
      viaRest.push(await restEvent);
      viaGraphql.push(await graphqlEvent);
      nextGraphql = graphql.next();
    }
    rest.close();
    await graphql.return?.();
    client.dispose();

    printLatencies(`revocation latency across instances, ${ITERATIONS} revocations, Node ${process.version}`, [
      ['baseline: revoke request answered', answer],
      ['event on REST /api/auth/events (two)', viaRest],
      ['event on GraphQL subscription (three)', viaGraphql],
    ]);
  } finally {
    httpOne.close();
    httpTwo.close();
    httpThree.close();
    await two.close();
    await three.close();
    await one.done();
  }
}

void main();
