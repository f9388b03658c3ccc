import { fileURLToPath } from 'node:url';
import type { Client, ClientOptions } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { useChromium } from './support/browser.js';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { expectNoStreamLeft } from './support/events.js';
import { useTestServer } from './support/server.js';

/** graphql-sse's own browser build, as a page would load it. */
const GRAPHQL_SSE_UMD = fileURLToPath(new URL('../node_modules/graphql-sse/umd/graphql-sse.js', import.meta.url));

const SUBSCRIPTIONS = 10;

interface Seen {
  /** Per subscription, in order: the data of each result, then 'complete' (or the error). */
  results: unknown[][];
}

type PageWindow = Window & { graphqlSse: { createClient(options: ClientOptions<true>): Client }; seen: Seen };

describe('a Chromium page with ten subscriptions over HTTP/1.1, on one connection (/graphql/stream)', () => {
  // Ten subscriptions and their connection, on one session.
  const server = useTestServer({ env: { STREAMS_PER_SESSION: String(SUBSCRIPTIONS + 1) } });
  const chromium = useChromium();

  it('opens one event stream, and every subscription receives its events and completes', async () => {
    const first = await registerUser(server.graphqlUrl);
    const listener = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD, deviceInfo: 'browser tab' });
    // The device page's CSP allows no script of ours: the test adds graphql-sse's build to it.
    const context = await chromium.browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql/stream') requests.push(`${request.method()} ${request.headers()['accept'] ?? ''}`);
    });
    await page.goto(`${server.url}/devices`);
    await page.addScriptTag({ path: GRAPHQL_SSE_UMD });

    await page.evaluate(
      ({ token, count }) => {
        const w = window as unknown as PageWindow;
        const seen: Seen = { results: [] };
        w.seen = seen;
        const client = w.graphqlSse.createClient({ url: '/graphql/stream', singleConnection: true, headers: { authorization: `Bearer ${token}` } });
        // Half of them sessionRevoked, half sessionCreated.
        for (let i = 0; i < count; i += 1) {
          const results: unknown[] = [];
          seen.results.push(results);
          const query =
            i % 2 === 0 ? 'subscription { sessionRevoked { sessionId reason current } }' : 'subscription { sessionCreated { id deviceInfo } }';
          client.subscribe(
            { query },
            {
              next: (result) => results.push(result.data),
              error: (error) => results.push(`error: ${String(error)}`),
              complete: () => results.push('complete'),
            },
          );
        }
      },
      { token: listener.token, count: SUBSCRIPTIONS },
    );
    // The connection and the ten subscriptions, each a stream of its own.
    await expect.poll(() => server.services.streams.running, { timeout: 10_000 }).toBe(SUBSCRIPTIONS + 1);

    const phone = await loginUser(server.graphqlUrl, { email: first.email, password: PASSWORD, deviceInfo: 'phone' });
    const response = await fetch(`${server.url}/api/auth/logout-all`, { method: 'POST', headers: { authorization: `Bearer ${first.token}` } });
    expect(response.status).toBe(200);

    await page.waitForFunction(() => (window as unknown as PageWindow).seen.results.every((r) => r.at(-1) === 'complete'), undefined, {
      timeout: 15_000,
    });
    const { results } = await page.evaluate(() => (window as unknown as PageWindow).seen);
    results.forEach((received, i) => {
      if (i % 2 === 1) {
        expect(received).toEqual([{ sessionCreated: { id: phone.session.id, deviceInfo: 'phone' } }, 'complete']);
        return;
      }
      // Every session of the account, the tab's own last.
      expect(received).toHaveLength(4);
      expect(received.slice(0, 2)).toEqual(
        expect.arrayContaining([first.session.id, phone.session.id].map((sessionId) => ({ sessionRevoked: { sessionId, reason: 'LOGOUT_ALL', current: false } }))),
      );
      expect(received.slice(2)).toEqual([{ sessionRevoked: { sessionId: listener.session.id, reason: 'LOGOUT_ALL', current: true } }, 'complete']);
    });
    // One reservation, one event stream, and each operation POSTed: one HTTP/1.1 connection held open, not ten.
    expect(requests.filter((r) => r.startsWith('PUT'))).toHaveLength(1);
    expect(requests.filter((r) => r.includes('text/event-stream'))).toEqual(['GET text/event-stream']);
    expect(requests.filter((r) => r.startsWith('POST'))).toHaveLength(SUBSCRIPTIONS);
    const protocols = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((entry) => (entry as PerformanceResourceTiming).nextHopProtocol),
    );
    expect(new Set(protocols)).toEqual(new Set(['http/1.1']));
    await expectNoStreamLeft(server);
    await context.close();
  });
});
