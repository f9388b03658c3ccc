import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, type OwnRedis } from './support/redis-server.js';
import { dropDatabase, startServer, testDatabaseUri, type TestServer } from './support/server.js';

describe('GET /health', () => {
  const mongoUri = testDatabaseUri();
  let redis: OwnRedis;
  let server: TestServer;
  let embedded: TestServer;

  beforeAll(async () => {
    redis = await startOwnRedis();
    server = await startServer({ env: { MONGODB_URI: mongoUri, REDIS_URL: redis.url, SERVER_ID: 'health-1' } });
    embedded = await startServer({ env: { MONGODB_URI: mongoUri, REDIS_URL: undefined } });
  });
  afterAll(async () => {
    await server?.close();
    await embedded?.close();
    await redis?.stop();
    await dropDatabase(mongoUri);
  });

  it('is 200 with every dependency up', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      uptime: expect.any(Number),
      serverId: 'health-1',
      checks: { mongo: 'up', redis: 'up' },
    });
  });

  it('says "embedded" for the in-process Redis stand-in', async () => {
    const response = await fetch(`${embedded.url}/health`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { checks: unknown }).checks).toEqual({ mongo: 'up', redis: 'embedded' });
  });

  it('is 503 naming the failing check when Redis is down, and recovers', async () => {
    await redis.stop();
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'down', checks: { mongo: 'up', redis: 'down' } });
    await redis.start();
    await expect.poll(async () => (await fetch(`${server.url}/health`)).status, { timeout: 10_000 }).toBe(200);
  });
});
