import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { isEvent, openEventStream } from './support/sse.js';
import { TEST_JWT_SECRET, useTestServer } from './support/server.js';

describe('logs', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', serverId: 'log-test', destination: { write: (line: string) => void lines.push(line) } });
  const server = useTestServer({ logger });

  it('are one JSON line per request and never carry a password, hash, token or secret', async () => {
    const user = await registerUser(server.graphqlUrl);
    const other = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-1' },
      body: JSON.stringify({ email: user.email, password: 'a wrong password' }),
    });
    // The token in a URL (EventSource) and in a header (GraphQL SSE), then a revocation.
    const stream = await openEventStream(`${server.url}/api/auth/events?token=${other.token}`);
    await stream.until(isEvent('connected'));
    await fetch(`${server.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${other.token}` } });
    await stream.readToEnd();

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) {
      expect(r).toMatchObject({ serverId: 'log-test', reqId: expect.any(String), method: expect.any(String), route: expect.any(String), status: expect.any(Number), durationMs: expect.any(Number) });
    }
    expect(requests).toContainEqual(expect.objectContaining({ reqId: 'trace-me-1', route: '/api/auth/login', status: 401 }));
    expect(requests).toContainEqual(expect.objectContaining({ route: '/api/auth/events?token=[redacted]', status: 200 }));

    const all = lines.join('\n');
    for (const secret of [user.token, other.token, PASSWORD, 'a wrong password', TEST_JWT_SECRET, '$2a$', '$2b$']) {
      expect(all).not.toContain(secret);
    }
  });
});
