import { describe, expect, it } from 'vitest';
import { loginUser, PASSWORD, registerUser } from './support/client.js';
import { restClient } from './support/rest.js';
import { useTestServer } from './support/server.js';
import { isRevocationOf, openRestEvents, subscribeOverSse } from './support/sse.js';

/** Scrapes `url` as Prometheus would. */
async function scrape(url: string | undefined): Promise<string> {
  if (!url) throw new Error('the server was started without METRICS_PORT');
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** A sample's value in Prometheus text (`name{labels} value`), 0 when absent (a labelled counter appears on its first step). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ? match[2].split(',') : [];
    if (wanted.every((label) => present.includes(label)) && present.length === wanted.length) return Number(match[3]);
  }
  return 0;
}

describe('GET /metrics on METRICS_PORT', () => {
  const server = useTestServer({ env: { METRICS_PORT: '0', STREAMS_PER_SESSION: '1' } });
  // A second instance in the same process: its own registry, no clash, its own counts.
  const other = useTestServer({ shareWith: server, env: { METRICS_PORT: '0' } });
  const off = useTestServer({ shareWith: server });

  it('is off when METRICS_PORT is unset, and never on the API port', async () => {
    expect(off.metricsUrl).toBeUndefined();
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it("has Node's default metrics and each dependency up", async () => {
    const text = await scrape(server.metricsUrl);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(sample(text, 'logout_all_dependency_up', { dependency: 'mongo' })).toBe(1);
    expect(sample(text, 'logout_all_dependency_up', { dependency: 'redis' })).toBe(1);
    for (const name of ['logout_all_outbox_depth', 'logout_all_outbox_oldest_due_age_seconds', 'logout_all_password_queue_depth']) {
      expect(text).toContain(`# TYPE ${name} gauge`);
    }
    expect(text).toContain('# TYPE logout_all_password_wait_seconds histogram');
    expect(text).toContain('# TYPE logout_all_delivery_latency_seconds histogram');
  });

  it('counts a sign-out, its delivery, the open streams and those a cap refused', async () => {
    const before = await scrape(server.metricsUrl);
    const user = await registerUser(server.graphqlUrl);
    const phone = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    const rest = await openRestEvents(server, user.token);
    const graphql = await subscribeOverSse(server, phone.token);
    expect(graphql.status).toBe(200);
    // STREAMS_PER_SESSION is 1: a second stream of the first session is refused.
    const refused = await restClient(server).get('/api/auth/events', { token: user.token, headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(429);

    const open = await scrape(server.metricsUrl);
    expect(sample(open, 'logout_all_streams_open', { transport: 'rest' }) - sample(before, 'logout_all_streams_open', { transport: 'rest' })).toBe(1);
    expect(sample(open, 'logout_all_streams_open', { transport: 'graphql' }) - sample(before, 'logout_all_streams_open', { transport: 'graphql' })).toBe(1);
    expect(sample(open, 'logout_all_streams_refused_total', { cap: 'session' }) - sample(before, 'logout_all_streams_refused_total', { cap: 'session' })).toBe(1);

    // The phone signs out; the first device's stream is told.
    const signedOut = await restClient(server).post('/api/auth/logout', { token: phone.token });
    expect(signedOut.status).toBe(200);
    await rest.until(isRevocationOf(phone.session.id));

    const after = await scrape(server.metricsUrl);
    const moved = (text: string, name: string, labels?: Record<string, string>): number => sample(text, name, labels) - sample(before, name, labels);
    expect(moved(after, 'logout_all_revocations_total', { reason: 'LOGOUT' })).toBe(1);
    expect(moved(after, 'logout_all_sessions_revoked_total', { reason: 'LOGOUT' })).toBe(1);
    expect(moved(after, 'logout_all_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(moved(after, 'logout_all_sign_ins_total', { outcome: 'succeeded' })).toBe(1);
    // The phone's own GraphQL stream ended with its revocation.
    await expect.poll(async () => sample(await scrape(server.metricsUrl), 'logout_all_streams_open', { transport: 'graphql' })).toBe(sample(before, 'logout_all_streams_open', { transport: 'graphql' }));
    rest.close();
    await expect.poll(async () => sample(await scrape(server.metricsUrl), 'logout_all_streams_open', { transport: 'rest' })).toBe(sample(before, 'logout_all_streams_open', { transport: 'rest' }));

    // The other instance counted none of it.
    expect(sample(await scrape(other.metricsUrl), 'logout_all_revocations_total', { reason: 'LOGOUT' })).toBe(0);
  });

  it('counts failed sign-ins apart from successful ones', async () => {
    const user = await registerUser(server.graphqlUrl);
    const before = await scrape(server.metricsUrl);
    const wrong = await restClient(server).post('/api/auth/login', { json: { email: user.email, password: 'not the password' } });
    expect(wrong.status).toBe(401);
    const after = await scrape(server.metricsUrl);
    expect(sample(after, 'logout_all_sign_ins_total', { outcome: 'failed' }) - sample(before, 'logout_all_sign_ins_total', { outcome: 'failed' })).toBe(1);
    expect(sample(after, 'logout_all_sign_ins_total', { outcome: 'succeeded' })).toBe(sample(before, 'logout_all_sign_ins_total', { outcome: 'succeeded' }));
    expect(sample(after, 'logout_all_password_wait_seconds_count')).toBeGreaterThan(sample(before, 'logout_all_password_wait_seconds_count'));
  });
});

describe('sign-ins refused by a limit', () => {
  const server = useTestServer({ ownRedis: true, env: { METRICS_PORT: '0', RATE_LIMIT_PER_ACCOUNT_ADDRESS: '1' } });

  it('are counted as refused', async () => {
    const user = await registerUser(server.graphqlUrl);
    const login = (password: string) => restClient(server).post('/api/auth/login', { json: { email: user.email, password } });
    expect((await login('wrong once')).status).toBe(401);
    expect((await login('wrong twice')).status).toBe(429);
    const text = await scrape(server.metricsUrl);
    expect(sample(text, 'logout_all_sign_ins_total', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'logout_all_sign_ins_total', { outcome: 'refused' })).toBe(1);
  });
});
