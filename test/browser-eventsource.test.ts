import { describe, expect, it } from 'vitest';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { useChromium } from './support/browser.js';
import { useTestServer } from './support/server.js';

interface Seen {
  events: Array<{ type: string; data: string }>;
  readyState: number;
}

describe("a browser's EventSource on /api/auth/events?token=", () => {
  const server = useTestServer();
  const chromium = useChromium();

  it('gets connected, then its own session-revoked, and stops reconnecting', async () => {
    const first = await registerUser(server.graphqlUrl);
    const listener = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD });
    const page = await chromium.browser.newPage();
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/api/auth/events') statuses.push(response.status());
    });
    // Any page of the server's origin will do: the device page is one.
    await page.goto(`${server.url}/devices`);

    await page.evaluate((token) => {
      const seen: Seen = { events: [], readyState: 0 };
      Object.assign(window, { seen });
      const source = new EventSource(`/api/auth/events?token=${encodeURIComponent(token)}`);
      for (const type of ['connected', 'session-revoked']) {
        source.addEventListener(type, (message) => seen.events.push({ type, data: (message as MessageEvent<string>).data }));
      }
      // docs/rest.md's browser snippet closes on its own revocation; this one does not,
      // to show what a browser does by itself after the stream ends.
      source.addEventListener('error', () => {
        seen.readyState = source.readyState;
      });
    }, listener.token);
    await page.waitForFunction(() => (window as unknown as { seen: Seen }).seen.events.length === 1);

    const response = await fetch(`${server.url}/api/auth/logout-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}` },
    });
    expect(response.status).toBe(200);

    // EventSource.CLOSED: the browser gave up after its reconnection was refused.
    await page.waitForFunction(() => (window as unknown as { seen: Seen }).seen.readyState === 2, undefined, { timeout: 15_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: Seen }).seen);
    // Every session of the account went: the other one first, the listener's own last.
    expect(seen.events.map((e) => e.type)).toEqual(['connected', 'session-revoked', 'session-revoked']);
    expect(seen.events.slice(1).map((e) => JSON.parse(e.data) as unknown)).toEqual([
      expect.objectContaining({ sessionId: first.session.id, reason: 'LOGOUT_ALL', current: false }),
      expect.objectContaining({ sessionId: listener.session.id, reason: 'LOGOUT_ALL', current: true }),
    ]);
    // One stream, one reconnection answered 401 (or 204), and no further attempt:
    // a closed EventSource never retries, and the page is still open to prove it.
    expect(statuses).toHaveLength(2);
    expect(statuses[0]).toBe(200);
    expect([204, 401]).toContain(statuses[1]);
    await page.close();
  });
});
