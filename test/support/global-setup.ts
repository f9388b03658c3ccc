import type { TestProject } from 'vitest/node';
import { EmbeddedMongoError, startEmbeddedMongo } from '../../src/embedded-mongo.js';
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
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];

  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    // The same embedded server as `npm run dev` (src/embedded-mongo.ts), with throwaway data.
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    const embedded = await startEmbeddedMongo({ say }).catch((error: unknown) => {
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
