import type { TestProject } from 'vitest/node';
import { startOwnRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    redisUrl: string;
  }
}

/**
 * Real services for the whole run. MONGODB_URI and REDIS_URL are used when
 * set (CI starts FerretDB and sets them); otherwise an in-memory MongoDB
 * (mongodb-memory-server) and a private redis-server on a free port.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];

  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const server = await MongoMemoryServer.create().catch((error: unknown) => {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`MONGODB_URI is not set and mongodb-memory-server could not start (${reason}): set MONGODB_URI to a MongoDB-wire server`);
    });
    stops.push(async () => void (await server.stop()));
    mongoUri = server.getUri();
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
