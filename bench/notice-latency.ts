import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-sse';
import type { Topic } from '../src/pubsub.js';
import { register } from '../src/resolvers/auth.js';
import type { Services } from '../src/services.js';
import { isEvent, openEventStream, type SseItem } from '../test/support/sse.js';
import { benchServices, listen, printLatencies, waitForListeners } from './support.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);
const PASSWORD = 'latency-password';

/** One round's action on instance one, and how each stream recognises its notice. */
export interface Round {
  /** Sends the request the devices hear of; resolves when its answer is in. */
  send(): Promise<void>;
  /** The REST event that is this round's notice. */
  restNotice(item: SseItem): boolean;
}

export interface NoticeLatency {
  title: string;
  topic: Topic;
  /** The GraphQL subscription instance three's device holds. */
  subscription: string;
  /** The baseline's name: the request's own answer. */
  baseline: string;
  rest: string;
  graphql: string;
  /** Sets up round `i` (before the clock starts) for the watcher, on instance one at `url`. */
  round(i: number, context: { one: Services; url: string; email: string; password: string; token: string }): Promise<Round>;
}

/**
 * How soon a device hears of something done on another instance: three
 * instances share MongoDB and Redis; the watcher listens on instance two (REST
 * `/api/auth/events`) and on instance three (a GraphQL subscription); each
 * round does something on instance one. Measured from sending the request:
 * the baseline is the request's own round trip, then each stream's notice.
 */
export async function measureNoticeLatency(spec: NoticeLatency): Promise<void> {
  const one = await benchServices({ SERVER_ID: 'one', BCRYPT_ROUNDS: '4' });
  const two = await benchServices({ SERVER_ID: 'two', BCRYPT_ROUNDS: '4' }, one.connection.name);
  const three = await benchServices({ SERVER_ID: 'three', BCRYPT_ROUNDS: '4' }, one.connection.name);
  const [httpOne, httpTwo, httpThree] = await Promise.all([listen(one), listen(two), listen(three)]);
  try {
    const email = `latency.${Date.now()}@example.com`;
    const watcher = await register(one, { name: 'Latency', email, password: PASSWORD }, { ipAddress: '127.0.0.1', userAgent: 'bench' });
    const rest = await openEventStream(`${httpTwo.url}/api/auth/events?token=${watcher.token}`);
    await rest.until(isEvent('connected'));
    const client = createClient({ url: `${httpThree.url}/graphql`, headers: { authorization: `Bearer ${watcher.token}` } });
    const graphql = client.iterate({ query: spec.subscription });
    // graphql-sse connects on the first next(); both streams are live once Redis
    // counts two connections listening for this user (instance two's and three's).
    let nextGraphql = graphql.next();
    await waitForListeners(one, spec.topic, watcher.user.id, 2);

    const answer: number[] = [];
    const viaRest: number[] = [];
    const viaGraphql: number[] = [];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const round = await spec.round(i, { one, url: httpOne.url, email, password: PASSWORD, token: watcher.token });
      const start = performance.now();
      const restEvent = rest.until(round.restNotice).then(() => performance.now() - start);
      const graphqlEvent = nextGraphql.then(() => performance.now() - start);
      await round.send();
      answer.push(performance.now() - start);
      viaRest.push(await restEvent);
      viaGraphql.push(await graphqlEvent);
      nextGraphql = graphql.next();
    }
    rest.close();
    await graphql.return?.();
    client.dispose();

    printLatencies(`${spec.title}, ${ITERATIONS} rounds, Node ${process.version}`, [
      [spec.baseline, answer],
      [spec.rest, viaRest],
      [spec.graphql, viaGraphql],
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
