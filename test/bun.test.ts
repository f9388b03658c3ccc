import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { channel } from '../src/pubsub.js';
import { loginUser, PASSWORD, registerUser, revocations, sseClient } from './support/client.js';
import { readToEnd } from './support/events.js';
import { dropDatabase, TEST_JWT_SECRET, testDatabaseUri } from './support/server.js';
import { isEvent, openEventStream } from './support/sse.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The `bun` devDependency: the runtime itself, installed by npm like any package.
const BUN = fileURLToPath(new URL('../node_modules/.bin/bun', import.meta.url));

/**
 * `npm run dev:bun`, as docs/development.md says, on a free port; resolves with its URL from the
 * listening log line. npm puts node_modules/.bin first on the PATH: the installed `bun` package
 * runs it, with no Bun installed on the machine.
 */
function startOnBun(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  if (!existsSync(BUN)) throw new Error(`Bun not found at ${BUN}: npm ci installs it (devDependency "bun")`);
  const child = spawn('npm', ['run', '--silent', 'dev:bun'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: the test stops npm and Bun together
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const collect = (line: string): void => {
      output.push(line);
      const port = /"port":(\d+)/.exec(line)?.[1];
      if (port && line.includes('listening')) resolve({ url: `http://127.0.0.1:${port}`, child });
    };
    createInterface({ input: child.stdout! }).on('line', collect);
    createInterface({ input: child.stderr! }).on('line', collect);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bun src/main.ts exited with ${code}:\n${output.join('\n')}`)));
  });
}

describe('the server on Bun', () => {
  const mongoUri = testDatabaseUri();
  let server: { url: string; child: ChildProcess };
  let redis: Redis;

  beforeAll(async () => {
    server = await startOnBun({
      NODE_ENV: 'test',
      PORT: '0',
      MONGODB_URI: mongoUri,
      REDIS_URL: inject('redisUrl'),
      JWT_SECRET: TEST_JWT_SECRET,
      BCRYPT_ROUNDS: '4',
      LOG_LEVEL: 'info',
      // Every test signs in from 127.0.0.1 on the run's shared Redis, as test/support/server.ts says.
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_ACCOUNT: '1000',
    });
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    redis?.disconnect();
    if (server?.child.exitCode === null && server.child.pid) {
      await new Promise((resolve) => {
        server.child.once('exit', resolve);
        process.kill(-server.child.pid!, 'SIGTERM');
      });
    }
    await dropDatabase(mongoUri);
  });

  /** The server's Redis subscription for this user is live (one per instance, whatever the number of streams). */
  async function subscribed(userId: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [, count] = (await redis.call('PUBSUB', 'NUMSUB', channel('sessionRevoked', userId))) as [string, number];
      if (Number(count) === 1) return;
      if (Date.now() > deadline) throw new Error('the server never subscribed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('is the command package.json runs as `npm run dev:bun`', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['dev:bun']).toBe('bun src/main.ts');
  });

  it('registers, and tells a GraphQL SSE subscriber and a REST event stream of a revocation', async () => {
    const graphqlUrl = `${server.url}/graphql`;
    const first = await registerUser(graphqlUrl, { deviceInfo: 'first' });
    const other = await loginUser(graphqlUrl, { email: first.email, password: PASSWORD });

    const client = sseClient(graphqlUrl, other.token);
    const graphqlEvents = readToEnd(revocations(client));
    await subscribed(first.user.id);
    const rest = await openEventStream(`${server.url}/api/auth/events`, { authorization: `Bearer ${other.token}` });
    await rest.until(isEvent('connected'));

    const response = await fetch(`${server.url}/api/auth/sessions/${other.session.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${first.token}` },
    });
    expect(response.status).toBe(200);

    expect((await graphqlEvents).map((r) => r.data?.sessionRevoked)).toEqual([
      expect.objectContaining({ sessionId: other.session.id, reason: 'REVOKED', current: true }),
    ]);
    const restEvents = (await rest.readToEnd()).filter(isEvent('session-revoked'));
    expect(restEvents.map((e) => (e.kind === 'event' ? (JSON.parse(e.data) as unknown) : null))).toEqual([
      expect.objectContaining({ sessionId: other.session.id, reason: 'REVOKED', current: true }),
    ]);
    client.dispose();
  });
});
