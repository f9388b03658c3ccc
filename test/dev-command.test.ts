import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from './support/client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEV_SCRIPT = 'LOGOUT_ALL_WATCH=1 tsx watch --clear-screen=false src/main.ts';

interface DevRun {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

/**
 * `npm run dev`'s command, run in a scratch working directory (where its
 * `.data/` goes) with no MONGODB_URI or REDIS_URL, as on a fresh machine.
 */
function dev(cwd: string, env: Record<string, string> = {}): DevRun {
  const [marker, ...command] = DEV_SCRIPT.split(' ');
  const args = command.slice(1).map((arg) => (arg === 'src/main.ts' ? join(ROOT, 'src/main.ts') : arg));
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), args, {
    cwd,
    detached: true, // its own process group, so the test stops tsx and the server together
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      [marker!.split('=')[0]!]: marker!.split('=')[1]!,
      PORT: '0',
      JWT_SECRET: 'a-development-secret-that-is-long-enough',
      BCRYPT_ROUNDS: '4',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

async function listening(run: DevRun): Promise<string> {
  const deadline = Date.now() + 120_000; // a first FerretDB build may happen here
  for (;;) {
    const port = run.lines.map((line) => /"port":(\d+).*listening/.exec(line)?.[1]).find(Boolean);
    if (port) return `http://127.0.0.1:${port}`;
    if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run dev did not start:\n${run.lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(run: DevRun): Promise<void> {
  if (run.child.exitCode === null && run.child.pid) process.kill(-run.child.pid, 'SIGTERM');
  await run.exited;
}

describe('npm run dev on a fresh machine (no MONGODB_URI)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'logout-all-dev-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('is the command package.json runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.dev).toBe(DEV_SCRIPT);
  });

  it('says which embedded server it uses, in one line, and keeps the data across restarts in .data/', async () => {
    const email = uniqueEmail('dev');
    const first = dev(cwd);
    try {
      const url = await listening(first);
      const which = first.lines.filter((line) => line.includes('MONGODB_URI not set'));
      expect(which).toHaveLength(1);
      expect(which[0]).toMatch(/using embedded (FerretDB|mongodb-memory-server) .*data in \.data\/.* until `make clean`/);
      // Start-up says what it does at info (30): nothing went wrong, so no warning (40) or error.
      expect(which[0]).toContain('"level":30');
      const levels = first.lines.map((line) => /^\{.*"level":(\d+)/.exec(line)?.[1]).filter(Boolean).map(Number);
      expect(levels.filter((level) => level >= 40)).toEqual([]);
      // The listening line names both ways in (no METRICS_PORT: no /metrics).
      const listeningLine = first.lines.find((line) => line.includes('listening'))!;
      expect(listeningLine).toMatch(/\/graphql.*\/devices/);
      expect(listeningLine).not.toContain('/metrics');
      const registered = await fetch(`${url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Dev', email, password: PASSWORD }),
      });
      expect(registered.status).toBe(201);
    } finally {
      await stop(first);
    }

    const second = dev(cwd);
    try {
      const url = await listening(second);
      const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
      expect(login.status).toBe(200);
    } finally {
      await stop(second);
    }
  });

  it('ends with status 1 after a fatal start-up error, instead of waiting for an edit', async () => {
    const run = dev(cwd, { PORT: 'eighty' });
    try {
      expect(await run.exited).toBe(1);
      expect(run.lines).toContain('config: PORT: must be a whole number from 0 to 65535 (got "eighty")');
    } finally {
      await stop(run);
    }
  });

  it('keeps its generated JWT_SECRET in .data/, so that a reload keeps every session signed in', async () => {
    const email = uniqueEmail('dev-secret');
    const first = dev(cwd, { JWT_SECRET: '' });
    let token: string;
    try {
      const url = await listening(first);
      const registered = await fetch(`${url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Dev', email, password: PASSWORD }),
      });
      expect(registered.status).toBe(201);
      token = ((await registered.json()) as { token: string }).token;
    } finally {
      await stop(first);
    }
    // Readable by its owner only.
    expect(statSync(join(cwd, '.data/jwt-secret')).mode & 0o077).toBe(0);

    // With METRICS_PORT this time: the listening line names /metrics too, where Prometheus finds it.
    const second = dev(cwd, { JWT_SECRET: '', METRICS_PORT: '0' });
    try {
      const url = await listening(second);
      const me = await fetch(`${url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      const listeningLine = second.lines.find((line) => line.includes('listening'))!;
      const metricsUrl = /metrics on (http:\/\/localhost:\d+\/metrics)/.exec(listeningLine)?.[1];
      expect(listeningLine).toMatch(/\/graphql.*\/devices.*\/metrics/);
      const metrics = await (await fetch(metricsUrl!.replace('localhost', '127.0.0.1'))).text();
      expect(metrics).toContain('process_cpu_seconds_total');
      expect(metrics).toContain('logout_all_sign_ins_total{outcome="succeeded"} 0');
    } finally {
      await stop(second);
    }
  });

  it('ends with status 1 and one line naming the port when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    const run = dev(cwd, { PORT: String(port) });
    try {
      expect(await run.exited).toBe(1);
      const named = run.lines.filter((line) => line.includes(`port ${port}`));
      expect(named).toEqual([`startup: port ${port} is already in use (PORT): stop what listens on it, or set PORT to another port`]);
      expect(run.lines.join('\n')).not.toContain('EADDRINUSE');
    } finally {
      await stop(run);
      taken.close();
    }
  });
});
