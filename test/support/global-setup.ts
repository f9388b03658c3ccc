import type { TestProject } from 'vitest/node';
import { EmbeddedMongoError, FERRETDB_HANDLERS, startEmbeddedMongo, type FerretDbHandler } from '../../src/embedded-mongo.js';
import { startOwnRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    redisUrl: string;
  }
}

/**
 * Real services for the whole run. MONGODB_URI and REDIS_URL are used when
 * set; otherwise an embedded MongoDB-wire server (FerretDB built with Go,
 * else mongodb-memory-server) and a private redis-server on a free port.
 * FerretDB runs over PostgreSQL where it is reachable, in a database of its
 * own that goes with it (FERRETDB_HANDLER=sqlite|postgresql decides instead):
 * one server for the whole run, each test file in a MongoDB database of its
 * own in it (testDatabaseUri in server.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];

  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    // The embedded server of `npm run dev` (src/embedded-mongo.ts), with throwaway data.
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    const ferretdbHandler = process.env.FERRETDB_HANDLER || 'auto';
    if (!isFerretDbHandler(ferretdbHandler)) {
      say(`FERRETDB_HANDLER must be one of ${FERRETDB_HANDLERS.join(', ')}, not "${ferretdbHandler}"`);
      process.exit(1);
    }
    const embedded = await startEmbeddedMongo({ say, ferretdbHandler }).catch((error: unknown) => {
      if (!(error instanceof EmbeddedMongoError)) throw error;
      // One line naming the options, not a stack followed by "No test files found".
      say(error.message);
      process.exit(1);
    });
    say(embedded.description);
    stops.push(embedded.stop);
    mongoUri = embedded.uri;
  }

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const redis = await startOwnRedis();
    stops.push(() => redis.stop());
    redisUrl = redis.url;
  }

  project.provide('mongoUri', mongoUri);
  project.provide('redisUrl', redisUrl);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

function isFerretDbHandler(value: string): value is FerretDbHandler {
  return (FERRETDB_HANDLERS as readonly string[]).includes(value);
}
