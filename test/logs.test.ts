import { describe, expect, it, vi } from 'vitest';
import { PassThrough } from 'node:stream';
import { createLogger, createProcessLogger, flushLog } from '../src/logger.js';
import { errorCodes, gql, loginUser, PASSWORD, registerUser } from './support/client.js';
import { LoginDocument, MeDocument } from './support/operations.js';
import { restClient } from './support/rest.js';
import { isEvent, openEventStream, subscribeOverSse } from './support/sse.js';
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
    // Percent-encoded keys are still the token, and still redacted.
    const third = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    for (const key of ['%74oken', 'tok%65n']) {
      const encoded = await openEventStream(`${server.url}/api/auth/events?${key}=${third.token}`);
      await encoded.until(isEvent('connected'));
      encoded.close();
    }
    // Passwords in a GET document, in its variables, and in any query string.
    const document = `mutation { login(input: {email: "${user.email}", password: "password-in-a-document"}) { token } }`;
    await fetch(`${server.url}/graphql?query=${encodeURIComponent(document)}`);
    const variables = JSON.stringify({ i: { email: user.email, password: 'password-in-variables' } });
    await fetch(`${server.url}/graphql?query=${encodeURIComponent('query($i: LoginInput) { __typename }')}&variables=${encodeURIComponent(variables)}`);
    await fetch(`${server.url}/api/auth/me?password=password-in-a-query-string&password-as-a-key`);

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) {
      expect(r).toMatchObject({ serverId: 'log-test', reqId: expect.any(String), method: expect.any(String), route: expect.any(String), status: expect.any(Number), durationMs: expect.any(Number) });
    }
    expect(requests).toContainEqual(expect.objectContaining({ reqId: 'trace-me-1', route: '/api/auth/login', status: 401 }));
    expect(requests).toContainEqual(expect.objectContaining({ route: '/api/auth/events?token=[redacted]', status: 200 }));
    expect(requests.filter((r) => r.route === '/api/auth/events?token=[redacted]')).toHaveLength(3);
    expect(requests).toContainEqual(expect.objectContaining({ route: '/graphql?query=[redacted]' }));
    expect(requests).toContainEqual(expect.objectContaining({ route: '/graphql?query=[redacted]&variables=[redacted]' }));
    expect(requests).toContainEqual(expect.objectContaining({ route: '/api/auth/me?[key]=[redacted]&[key]=[redacted]' }));

    const all = lines.join('\n');
    for (const secret of [user.token, other.token, third.token, PASSWORD, 'a wrong password', 'password-in-a-document', 'password-in-variables', 'password-in-a-query-string', 'password-as-a-key', TEST_JWT_SECRET, '$2a$', '$2b$']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('log levels', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', serverId: 'levels', destination: { write: (line: string) => void lines.push(line) } });
  const server = useTestServer({ logger });
  const records = (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  /** Level 50 is error, 40 warn (pino's numbers). */
  const atError = (): Array<Record<string, unknown>> => records().filter((r) => (r.level as number) >= 50);
  const withStack = (): string[] => lines.filter((line) => /\\n\s+at /.test(line));

  it('never put a client error (4xx) at error level or with a stack, on either API', async () => {
    const user = await registerUser(server.graphqlUrl);
    lines.length = 0;
    // GraphQL: no token, a wrong password, a revoked token on a subscription.
    expect(await errorCodes(server.graphqlUrl, MeDocument, {})).toEqual(['UNAUTHENTICATED']);
    const wrong = await gql(server.graphqlUrl, LoginDocument, { input: { email: user.email, password: 'a wrong password' } });
    expect(wrong.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_CREDENTIALS']);
    const phone = await loginUser(server.graphqlUrl, { email: user.email, password: PASSWORD });
    expect((await restClient(server).post('/api/auth/logout', { token: phone.token })).status).toBe(200);
    const subscription = await subscribeOverSse(server, phone.token);
    await subscription.text();
    expect(await errorCodes(server.graphqlUrl, MeDocument, {}, phone.token)).toEqual(['UNAUTHENTICATED']);
    // REST: the same.
    expect((await restClient(server).get('/api/auth/me')).status).toBe(401);
    expect((await restClient(server).post('/api/auth/login', { json: { email: user.email, password: 'a wrong password' } })).status).toBe(401);
    expect((await restClient(server).get('/api/auth/me', { token: phone.token })).status).toBe(401);

    expect(records().filter((r) => r.msg === 'request').length).toBeGreaterThanOrEqual(7);
    expect(atError()).toEqual([]);
    expect(withStack()).toEqual([]);
  });

  it('put an unexpected error at error level, with its stack, once', async () => {
    const user = await registerUser(server.graphqlUrl);
    lines.length = 0;
    const findOne = vi.spyOn(server.services.models.User, 'findOne').mockImplementationOnce(() => {
      throw new Error('an unexpected failure');
    });
    try {
      const result = await gql(server.graphqlUrl, LoginDocument, { input: { email: user.email, password: PASSWORD } });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      findOne.mockRestore();
    }
    const failures = atError().filter((r) => JSON.stringify(r).includes('an unexpected failure'));
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures[0])).toMatch(/\\n\s+at /);
  });
});

describe('the process log', () => {
  /** What a process logger writes for one info line, given where its output goes. */
  async function written(nodeEnv: string, tty: boolean): Promise<string> {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const log = await createProcessLogger({ logLevel: 'info', serverId: 'pretty', nodeEnv }, { tty, stream });
    log.info({ port: 3001 }, 'logout-all listening');
    await flushLog(log);
    return Buffer.concat(chunks).toString('utf8');
  }

  it('is readable lines in development on a terminal', async () => {
    const text = await written('development', true);
    expect(text).toMatch(/INFO.*logout-all listening/);
    expect(text).toContain('port: 3001');
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it('is JSON in production, on a terminal too, and in development through a pipe', async () => {
    for (const [nodeEnv, tty] of [['production', true], ['production', false], ['development', false]] as const) {
      expect(JSON.parse(await written(nodeEnv, tty))).toMatchObject({ level: 30, port: 3001, msg: 'logout-all listening' });
    }
  });
});
