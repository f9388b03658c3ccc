import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { routes } from '../rest-compat/routes.js';
import { useTestServer } from './support/server.js';
import { isEvent, SseParser, type SseItem } from './support/sse.js';
import { waitForSubscribers } from './support/events.js';

const run = promisify(execFile);
const REST_DOC = fileURLToPath(new URL('../docs/rest.md', import.meta.url));
// The original server's README, as it was handed over: its curl examples must all still work.
const ORIGINAL_README = fileURLToPath(new URL('./contract/original-README.md', import.meta.url));
const PRINTED_HOST = 'http://localhost:3001';

/** The commands of the ```bash blocks of a markdown text: continuation lines joined, comments dropped. */
function bashCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

const normalize = (command: string): string => command.replace(/\s+/g, ' ').replace(' -N ', ' ').trim();
const routeOf = (command: string): string => {
  const method = /-X (\w+)/.exec(command)?.[1] ?? 'GET';
  const path = new URL(/"?(http:\/\/[^"\s]+)"?/.exec(command)?.[1] ?? '').pathname.replace(/\/sessions\/SESSION_ID$/, '/sessions/:id');
  return `${method} ${path}`;
};

describe('the REST examples of docs/rest.md', () => {
  const commands = bashCommands(readFileSync(REST_DOC, 'utf8'));
  const server = useTestServer();

  it('sit beside a route table that, like the contract\'s, lists exactly the routes served', () => {
    /** The first column of a markdown table of routes: `METHOD /path`, the query string dropped. */
    const table = (file: string): string[] =>
      [...readFileSync(new URL(file, import.meta.url), 'utf8').matchAll(/^\| `(GET|POST|PATCH|DELETE) (\/api\/[^`?]*)[^`]*` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    const served = routes.filter((route) => route.path !== '/api/openapi.json').map((route) => `${route.method} ${route.path}`);
    expect(table('../docs/rest.md').sort()).toEqual([...served].sort());
    expect(table('../docs/contract.md').sort()).toEqual([...served].sort());
  });

  it('include every curl example of the original README, and only curl commands', () => {
    const seed = bashCommands(readFileSync(ORIGINAL_README, 'utf8')).filter((c) => c.startsWith('curl '));
    expect(seed.length).toBeGreaterThanOrEqual(5);
    expect(commands.map(normalize)).toEqual(expect.arrayContaining(seed.map(normalize)));
    for (const command of commands) expect(command).toMatch(/^curl /);
    // Every REST route but the OpenAPI document has an example.
    expect(new Set(commands.map(routeOf))).toEqual(
      new Set([
        'POST /api/auth/register',
        'POST /api/auth/login',
        'POST /api/auth/refresh',
        'GET /api/auth/sessions',
        'GET /api/auth/me',
        'DELETE /api/auth/sessions/:id',
        'POST /api/auth/logout-all',
        'POST /api/auth/logout',
        'GET /api/auth/events',
        'GET /api/auth/security-events',
        'POST /api/auth/password',
        'DELETE /api/auth/account',
      ]),
    );
  });

  it('work as printed against a running server', async () => {
    const api = `${server.url}/api/auth`;
    // The password example changes John's password: later examples sign in with the new one.
    let password = 'password123';
    const login = async (): Promise<{ token: string; refreshToken: string; session: { id: string }; user: { id: string } }> => {
      const response = await fetch(`${api}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'john@example.com', password }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { token: string; refreshToken: string; session: { id: string }; user: { id: string } };
    };
    /** The printed command with this server's address and, where it asks for them, a fresh token and another session's id. */
    const prepare = async (command: string): Promise<{ line: string; token: string; userId: string }> => {
      let line = command.replaceAll(PRINTED_HOST, server.url);
      let token = '';
      let userId = '';
      if (line.includes('YOUR_JWT_TOKEN')) {
        const me = await login();
        token = me.token;
        userId = me.user.id;
        line = line.replaceAll('YOUR_JWT_TOKEN', token);
      }
      if (line.includes('YOUR_REFRESH_TOKEN')) line = line.replaceAll('YOUR_REFRESH_TOKEN', (await login()).refreshToken);
      if (line.includes('SESSION_ID')) line = line.replaceAll('SESSION_ID', (await login()).session.id);
      return { line, token, userId };
    };

    const expected: Record<string, [number, unknown]> = {
      'POST /api/auth/register': [201, { token: expect.any(String), refreshToken: expect.any(String), user: expect.objectContaining({ email: 'john@example.com' }), session: expect.objectContaining({ current: true }) }],
      'POST /api/auth/login': [200, { token: expect.any(String), refreshToken: expect.any(String), user: expect.objectContaining({ name: 'John Doe' }), session: expect.objectContaining({ deviceInfo: expect.stringMatching(/^curl \d/) }) }],
      'POST /api/auth/refresh': [200, { token: expect.any(String), refreshToken: expect.any(String), user: expect.objectContaining({ name: 'John Doe' }), session: expect.objectContaining({ current: true }) }],
      'GET /api/auth/sessions': [200, { sessions: expect.arrayContaining([expect.objectContaining({ current: true })]) }],
      'GET /api/auth/me': [200, { user: expect.objectContaining({ email: 'john@example.com' }) }],
      'DELETE /api/auth/sessions/:id': [200, { success: true }],
      'POST /api/auth/logout-all': [200, { success: true, revokedCount: expect.any(Number), revokedSessionIds: expect.any(Array) }],
      'POST /api/auth/logout': [200, { success: true }],
      'GET /api/auth/security-events': [200, { events: expect.arrayContaining([expect.objectContaining({ type: 'SIGNED_IN', current: true })]), nextCursor: expect.any(String) }],
      'POST /api/auth/password': [200, { revokedCount: expect.any(Number) }],
      'DELETE /api/auth/account': [204, null],
    };

    for (const command of commands) {
      const route = routeOf(command);
      const { line, token, userId } = await prepare(command);
      if (route === 'GET /api/auth/events') {
        await runEventsExample(line, userId, async () => {
          // Another terminal signs every device out; the stream shows it and ends, and curl exits.
          const other = await login();
          const response = await fetch(`${api}/logout-all`, { method: 'POST', headers: { authorization: `Bearer ${other.token}` } });
          expect(response.status).toBe(200);
        }).then((items) => {
          expect(items.find(isEvent('connected'))).toBeDefined();
          const last = items.filter(isEvent('session-revoked')).at(-1);
          expect(last?.kind === 'event' ? JSON.parse(last.data) : null).toMatchObject({ reason: 'LOGOUT_ALL', current: true });
        });
        expect(token).not.toBe('');
        continue;
      }
      // -sS: no progress meter; -w: the status on a line of its own after the body.
      const { stdout } = await run('bash', ['-c', `${line} -sS -w '\\n%{http_code}'`]);
      const cut = stdout.lastIndexOf('\n');
      const [status, body] = expected[route] ?? [0, null];
      const text = stdout.slice(0, cut);
      expect({ route, status: Number(stdout.slice(cut + 1)), body: text === '' ? null : (JSON.parse(text) as unknown) }).toEqual({ route, status, body });
      if (route === 'POST /api/auth/password') password = (/"newPassword": "([^"]+)"/.exec(line)?.[1]) ?? password;
    }
  });

  /** Runs the printed streaming curl, waits for `connected`, lets `trigger` revoke, and reads until curl exits. */
  async function runEventsExample(line: string, userId: string, trigger: () => Promise<void>): Promise<SseItem[]> {
    const curl = spawn('bash', ['-c', `${line} -sS`]);
    const parser = new SseParser();
    const items: SseItem[] = [];
    const exited = new Promise<number | null>((resolve) => curl.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      curl.stdout.setEncoding('utf8').on('data', (text: string) => {
        items.push(...parser.feed(text));
        if (items.some(isEvent('connected'))) resolve();
      });
      void exited.then(() => reject(new Error(`curl exited before connected: ${JSON.stringify(items)}`)));
    });
    await trigger();
    expect(await exited).toBe(0);
    await waitForSubscribers(server.services, userId, 0);
    return items;
  }
});
