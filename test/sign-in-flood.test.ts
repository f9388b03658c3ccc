import type { CommandStartedEvent } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { gql, PASSWORD, registerUser, uniqueEmail } from './support/client.js';
import { LoginDocument, SecurityEventsDocument } from './support/operations.js';
import { recordCommands, useTestServer } from './support/server.js';

/**
 * A flood of sign-ins that the limits refuse, all from one address: each
 * refusal is answered from Redis and costs MongoDB nothing, so the flood's
 * size does not show in MongoDB's work at all, and the owner, from another
 * address, signs in throughout.
 */
describe('a flood of refused sign-ins from one address', () => {
  // TRUST_PROXY: the test plays several addresses through X-Forwarded-For.
  const server = useTestServer({
    monitorCommands: true,
    ownRedis: true,
    env: { TRUST_PROXY: 'true', RATE_LIMIT_PER_ACCOUNT_ADDRESS: '2', RATE_LIMIT_PER_IP: '5' },
  });

  const FLOOD = 400;
  const PARALLEL = 40;

  const login = (email: string, password: string, ip: string): Promise<Response> =>
    fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ email, password }),
    });

  /** `FLOOD` sign-ins, `PARALLEL` at a time; `halfway` resolves when half are answered. Returns every status. */
  function flood(attempt: (i: number) => Promise<Response>): { statuses: Promise<number[]>; halfway: Promise<void> } {
    const statuses: number[] = [];
    let next = 0;
    let reachedHalf!: () => void;
    const halfway = new Promise<void>((resolve) => (reachedHalf = resolve));
    const worker = async (): Promise<void> => {
      while (next < FLOOD) {
        const response = await attempt(next++);
        await response.arrayBuffer();
        statuses.push(response.status);
        if (statuses.length === FLOOD / 2) reachedHalf();
      }
    };
    return { statuses: Promise.all(Array.from({ length: PARALLEL }, worker)).then(() => statuses), halfway };
  }

  /** Every MongoDB command but the timeline reads this test makes itself. */
  const notTimelineReads = (event: CommandStartedEvent): string | null =>
    event.commandName === 'find' && event.command.find === 'securityevents' ? null : `${event.commandName} ${String(event.command[event.commandName])}`;

  const timelineTypes = async (token: string): Promise<string[]> => {
    const result = await gql(server.graphqlUrl, SecurityEventsDocument, { first: 100 }, { token });
    return (result.data?.securityEvents.events ?? []).map((e) => e.type);
  };

  it('on one account: answers every attempt 429, costs MongoDB a few commands whatever its size, and the owner signs in throughout', async () => {
    const owner = await registerUser(server.graphqlUrl, { email: uniqueEmail('flooded') });
    const attacker = '10.66.0.1';
    // Two wrong passwords: the attacker's address is refused for this account from now on.
    for (let i = 0; i < 2; i += 1) expect((await login(owner.email, 'wrong password', attacker)).status).toBe(401);
    await expect.poll(() => timelineTypes(owner.token)).toContain('FAILED_SIGN_IN');

    const commands = recordCommands(server, notTimelineReads);
    const { statuses, halfway } = flood(() => login(owner.email, PASSWORD, attacker));
    await halfway;
    const during = await gql(server.graphqlUrl, LoginDocument, { input: { email: owner.email, password: PASSWORD } }, { headers: { 'x-forwarded-for': '10.1.0.1' } });
    expect(during.errors).toBeUndefined();
    expect(await statuses).toEqual(Array(FLOOD).fill(429));
    const after = await login(owner.email, PASSWORD, '10.1.0.2');
    expect(after.status).toBe(200);

    // The refusals are on the owner's timeline, once (coalesced)...
    await expect.poll(() => timelineTypes(owner.token)).toContain('SIGN_IN_THROTTLED');
    expect((await timelineTypes(owner.token)).filter((type) => type === 'SIGN_IN_THROTTLED')).toHaveLength(1);
    // ...and MongoDB saw the owner's two sign-ins (a handful of commands each) and that one entry:
    // nothing per refused attempt.
    expect(commands.length, commands.join('\n')).toBeLessThanOrEqual(24);
  });

  it('on many accounts: a refused address spraying emails costs MongoDB a bounded number of lookups', async () => {
    const owner = await registerUser(server.graphqlUrl, { email: uniqueEmail('bystander') });
    const sentinel = await registerUser(server.graphqlUrl, { email: uniqueEmail('sentinel') });
    const stuffer = '10.67.0.1';
    // Five failures on unknown accounts: this address is now refused for every account (RATE_LIMIT_PER_IP).
    for (let i = 0; i < 5; i += 1) expect((await login(uniqueEmail('leaked'), 'leaked password', stuffer)).status).toBe(401);
    expect((await login(owner.email, PASSWORD, stuffer)).status).toBe(429);
    await expect.poll(() => timelineTypes(owner.token)).toContain('SIGN_IN_THROTTLED');

    const commands = recordCommands(server, notTimelineReads);
    const { statuses, halfway } = flood(() => login(uniqueEmail('sprayed'), 'leaked password', stuffer));
    await halfway;
    expect((await login(owner.email, PASSWORD, '10.2.0.1')).status).toBe(200);
    expect(await statuses).toEqual(Array(FLOOD).fill(429));

    // Whatever the flood left to record is done once a later refusal, from another address, is
    // on its account's timeline.
    const elsewhere = '10.68.0.1';
    for (let i = 0; i < 2; i += 1) expect((await login(sentinel.email, 'wrong password', elsewhere)).status).toBe(401);
    expect((await login(sentinel.email, PASSWORD, elsewhere)).status).toBe(429);
    await expect.poll(() => timelineTypes(sentinel.token)).toContain('SIGN_IN_THROTTLED');
    expect(commands.length, commands.join('\n')).toBeLessThanOrEqual(40);
  });
});
