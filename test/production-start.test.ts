import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './support/redis-server.js';
import { dropDatabase, testDatabaseUri } from './support/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(command: string, args: string[], env: Record<string, string>, cwd = root): Run {
  // Its own process group, so a signal reaches npm and the server under it, as Ctrl-C in a terminal does.
  const child = spawn(command, args, {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

describe('npm start in production', () => {
  const mongoUri = testDatabaseUri();
  afterAll(() => dropDatabase(mongoUri));

  it('builds, serves /graphql on PORT with MONGODB_URI, REDIS_URL and JWT_SECRET, and stops on SIGTERM', async () => {
    const port = await freePort();
    const server = run('npm', ['start'], {
      NODE_ENV: 'production',
      PORT: String(port),
      MONGODB_URI: mongoUri,
      REDIS_URL: inject('redisUrl'),
      JWT_SECRET: 'a-production-secret-of-at-least-32-chars',
      BCRYPT_ROUNDS: '4',
      SERVER_ID: 'prod-test',
      // The shared test Redis has counted every test's sign-ups from 127.0.0.1.
      RATE_LIMIT_PER_IP: '1000000',
    });
    try {
      await expect.poll(() => server.stdout.join('').includes('"msg":"logout-all listening'), { timeout: 90_000, interval: 100 }).toBe(true);
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($i: RegisterInput!) { register(input: $i) { user { email } session { current } } }',
          variables: { i: { name: 'Prod', email: `prod.${port}@example.com`, password: 'production-password' } },
        }),
      });
      expect(await response.json()).toEqual({ data: { register: { user: { email: `prod.${port}@example.com` }, session: { current: true } } } });
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', serverId: 'prod-test', checks: { mongo: 'up', redis: 'up' } });
      // Production logs are JSON lines and carry no secret.
      const logs = server.stdout.join('');
      expect(logs).not.toContain('a-production-secret');
      expect(logs).not.toContain('production-password');
    } finally {
      if (server.child.pid) process.kill(-server.child.pid, 'SIGTERM');
    }
    // npm itself reports the signal; what matters is that the server shut down cleanly and let go of the port.
    await server.exited;
    expect(server.stdout.join('')).toContain('"msg":"shutting down"');
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 120_000);

  // Runs the dist/ build the test above made (tests in a file run in order).
  it('refuses to start with one line per bad variable', async () => {
    const bad = run(process.execPath, ['dist/src/main.js'], { NODE_ENV: 'production', PORT: 'eighty', MONGODB_URI: 'localhost:27017' });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr.join('').trim().split('\n')).toEqual([
      'config: PORT: must be a whole number from 0 to 65535 (got "eighty")',
      'config: JWT_SECRET: required in production (at least 32 characters)',
      'config: MONGODB_URI: must be a mongodb:// or mongodb+srv:// URI',
      'config: REDIS_URL: required in production (or REDIS_CLUSTER_NODES for a Redis Cluster)',
    ]);
  });

  // When no embedded server can start at all, the one-line message is tested in test/embedded-mongo.test.ts.
  it('in development without MONGODB_URI, the compiled server starts the embedded FerretDB and says so in one line', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'logout-all-dist-dev-'));
    const dev = run(process.execPath, [join(root, 'dist/src/main.js')], { NODE_ENV: 'development', PORT: '0' }, scratch);
    try {
      await expect.poll(() => dev.stdout.join('').includes('"msg":"logout-all listening'), { timeout: 60_000, interval: 100 }).toBe(true);
      const lines = dev.stdout.join('').split('\n').filter((line) => line.includes('MONGODB_URI not set'));
      expect(lines).toEqual([expect.stringMatching(/using embedded FerretDB .*data in \.data\/ferretdb\/ until `make clean`/)]);
    } finally {
      if (dev.child.pid) process.kill(-dev.child.pid, 'SIGTERM');
      await dev.exited;
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 90_000);
});
