/**
 * How soon the other devices hear of a new sign-in, across instances.
 *
 *   MONGODB_URI=… REDIS_URL=… npx tsx bench/session-created-latency.ts
 *
 * Three server instances share MongoDB and Redis. A device listens on instance
 * two (REST `/api/auth/events`, `event: session-created`) and on instance three
 * (the GraphQL `sessionCreated` subscription); another device signs in on
 * instance one (`POST /api/auth/login`). Measured from sending the login:
 *  - baseline: the login request's own round trip;
 *  - the notice's arrival on each stream.
 * docs/contract.md promises "within the same second"; the ratio says how the notice
 * compares with the sign-in's own answer.
 */
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-sse';
import { register } from '../src/resolvers/auth.js';
import { isEvent, openEventStream } from '../test/support/sse.js';
import { benchServices, listen, printLatencies } from './support.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);

async function main(): Promise<void> {
  const one = await benchServices({ SERVER_ID: 'one', BCRYPT_ROUNDS: '4' });
  const two = await benchServices({ SERVER_ID: 'two', BCRYPT_ROUNDS: '4' }, one.connection.name);
  const three = await benchServices({ SERVER_ID: 'three', BCRYPT_ROUNDS: '4' }, one.connection.name);
  const [httpOne, httpTwo, httpThree] = await Promise.all([listen(one), listen(two), listen(three)]);
  try {
    const email = `created.${Date.now()}@example.com`;
    const password = 'created-password';
    const watcher = await register(one, { name: 'Created', email, password }, { ipAddress: '127.0.0.1', userAgent: 'bench' });

    const rest = await openEventStream(`${httpTwo.url}/api/auth/events?token=${watcher.token}`);
    await rest.until(isEvent('connected'));
    const client = createClient({ url: `${httpThree.url}/graphql`, headers: { authorization: `Bearer ${watcher.token}` } });
    const graphql = client.iterate<{ sessionCreated: { id: string } }>({ query: 'subscription { sessionCreated { id } }' });
    // graphql-sse connects on the first next(); both streams are live once Redis
    // counts two connections listening for this user's new sessions.
    let nextGraphql = graphql.next();
    for (;;) {
      const [, count] = (await one.redis?.call('PUBSUB', 'NUMSUB', `la:sessionCreated:${watcher.user.id}`)) as [string, number];
      if (Number(count) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const answer: number[] = [];
    const viaRest: number[] = [];
    const viaGraphql: number[] = [];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const start = performance.now();
      const deviceInfo = `device ${i}`;
      const restEvent = rest
        .until((item) => isEvent('session-created')(item) && item.kind === 'event' && item.data.includes(`"${deviceInfo}"`))
        .then(() => performance.now() - start);
      const graphqlEvent = nextGraphql.then(() => performance.now() - start);
      const response = await fetch(`${httpOne.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password, deviceInfo }),
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

    printLatencies(`new sign-in notice latency across instances, ${ITERATIONS} sign-ins, Node ${process.version}`, [
      ['baseline: login request answered', answer],
      ['session-created on REST (two)', viaRest],
      ['sessionCreated on GraphQL (three)', viaGraphql],
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
