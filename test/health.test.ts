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

describe('GET /livez and /readyz', () => {
  const server = useTestServer({ ownRedis: true });

  it('/livez is 200 while the process answers, whatever its dependencies', async () => {
    expect(await (await fetch(`${server.url}/livez`)).json()).toEqual({ status: 'live' });
    await server.redis.stop();
    try {
      expect((await fetch(`${server.url}/livez`)).status).toBe(200);
      // /readyz takes the instance out of the load balancer while a dependency is down.
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'not ready', draining: false, checks: { mongo: 'up', redis: 'down' } });
    } finally {
      await server.redis.start();
    }
    await expect.poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', draining: false, checks: { mongo: 'up', redis: 'up' } });
  });

  it('/readyz is 503 once the instance drains (SIGTERM), while /livez still answers', async () => {
    // What the SIGTERM handler does first (src/main.ts, drainServer): end the streams and refuse new ones.
    server.services.streams.stopAll();
    const draining = await fetch(`${server.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'not ready', draining: true });
    expect((await fetch(`${server.url}/livez`)).status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
