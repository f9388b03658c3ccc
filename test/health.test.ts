import { describe, expect, it } from 'vitest';
import { useTestServer } from './support/server.js';

describe('GET /health', () => {
  const server = useTestServer({ ownRedis: true, env: { SERVER_ID: 'health-1' } });
  const embedded = useTestServer({ env: { REDIS_URL: undefined } });

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
    await server.redis.stop();
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'down', checks: { mongo: 'up', redis: 'down' } });
    await server.redis.start();
    await expect.poll(async () => (await fetch(`${server.url}/health`)).status, { timeout: 10_000 }).toBe(200);
  });
});
