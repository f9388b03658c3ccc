import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { removeUnfinishedRegistrations } from '../src/account/registration.js';
import { newCredentials } from './support/client.js';
import { startOwnFerretDb, type OwnFerretDb } from './support/ferretdb.js';
import { startServer, type TestServer } from './support/server.js';

/**
 * A registration is several MongoDB writes (the user, its first session, then
 * the account made usable), and FerretDB has no transactions. If MongoDB dies
 * between two of them, the answer must still be the truth: a registration
 * answered 503 left no account behind (nobody signs in with it, and the same
 * registration sent again succeeds instead of meeting EMAIL_TAKEN).
 *
 * The database is killed at an exact point: the moment it has acknowledged
 * the user's (or the session's) insert, from the driver's own event, before
 * the next write can leave.
 */
describe('a registration cut off by MongoDB dying', () => {
  let ferret: OwnFerretDb;
  let server: TestServer;
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', serverId: 'registration-outage', destination: { write: (line: string) => void lines.push(line) } });
  beforeAll(async () => {
    ferret = await startOwnFerretDb();
    server = await startServer({ env: { MONGODB_URI: ferret.uri, MONGODB_TIMEOUT: '1s' }, monitorCommands: true, logger });
  });
  afterAll(async () => {
    await server?.close();
    await ferret?.destroy();
  });

  const post = (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  const register = (credentials: { email: string; password: string }) => post('/api/auth/register', { name: 'Cut Off', ...credentials });
  const login = (credentials: { email: string; password: string }) => post('/api/auth/login', credentials);

  /** Kills the database once it has acknowledged the next insert into `collection`; resolves when it is dead. */
  function killAfterInsertInto(collection: string): Promise<void> {
    const client = server.services.connection.getClient();
    let requestId: number | undefined;
    return new Promise((resolve) => {
      const started = (event: CommandStartedEvent): void => {
        if (requestId === undefined && event.commandName === 'insert' && event.command.insert === collection) requestId = event.requestId;
      };
      const succeeded = (event: CommandSucceededEvent): void => {
        if (event.requestId !== requestId) return;
        client.off('commandStarted', started);
        client.off('commandSucceeded', succeeded);
        // stop() sends SIGKILL before it returns its promise: nothing later reaches the database.
        void ferret.stop().then(resolve);
      };
      client.on('commandStarted', started);
      client.on('commandSucceeded', succeeded);
    });
  }

  /**
   * Once the registration's own cleanup has failed (it runs after the answer, while the database
   * is still down), starts the database again: the unfinished registration is left for what follows.
   */
  async function restartDatabase(): Promise<void> {
    await expect.poll(() => lines.filter((line) => line.includes('could not remove the unfinished account')).length, { timeout: 10_000 }).toBeGreaterThan(0);
    lines.length = 0;
    await ferret.start();
    await expect.poll(async () => (await fetch(`${server.url}/health`)).status, { timeout: 20_000, interval: 200 }).toBe(200);
  }

  it.each(['users', 'sessions'])('answers 503 and leaves no account when it dies after the insert into %s', async (collection) => {
    const credentials = newCredentials(`cut-${collection}`);
    const dead = killAfterInsertInto(collection);
    const answer = await register(credentials);
    await dead;
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });

    await restartDatabase();
    // No account: the same answer as for an address nobody registered...
    expect((await login(credentials)).status).toBe(401);
    // ...and the same registration, sent again, registers.
    const retried = await register(credentials);
    expect(retried.status).toBe(201);
    const { token } = (await retried.json()) as { token: string };
    expect((await login(credentials)).status).toBe(200);
    // Nothing of the first attempt shows: the account has the two sessions of this test's answers.
    const listed = await fetch(`${server.url}/api/auth/sessions`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(2);
  });

  it('keeps the address for the unfinished registration for a while, then housekeeping frees it for anyone', async () => {
    const credentials = newCredentials('abandoned');
    const dead = killAfterInsertInto('users');
    expect((await register(credentials)).status).toBe(503);
    await dead;
    await restartDatabase();

    // Another password is not a retry of that registration: the address is taken while it may still finish.
    const other = { email: credentials.email, password: 'someone else entirely' };
    expect((await register(other)).status).toBe(409);
    expect(await removeUnfinishedRegistrations(server.services, { olderThanMs: 0 })).toBe(1);
    expect((await register(other)).status).toBe(201);
    expect((await login(credentials)).status).toBe(401);
    expect((await login(other)).status).toBe(200);
  });
});
