/**
 * What each read the server keeps off MongoDB would cost on the database, at
 * a size real deployments reach: the measurement behind keeping or dropping
 * each workaround made for FerretDB over SQLite (docs/architecture.md,
 * "What MongoDB is asked").
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/stand-in.ts [sessions]
 *
 * Writes `sessions` sessions (default 20,000) of 2,000 other users straight to
 * a throwaway database, then times, for one user with 20 sessions, the
 * MongoDB query each path would make against the Redis read it makes instead:
 * the session list, one session's device name, one session's owner, a stream
 * start's new sign-ins. Baseline: Redis's answer for the same question, in the
 * same run. Run it once on FerretDB over PostgreSQL and once over SQLite
 * (`FERRETDB_HANDLER=…`) to see what the stand-in changes; production MongoDB,
 * with its indexes, is faster than both.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import { activeFilter, op } from '../src/models/session.js';
import { pendingRevoked } from '../src/revocation/durable.js';
import { fromRecord, SESSION_FIELDS } from '../src/sessions/session.js';
import { benchServices, percentiles } from './support.js';

const TOTAL = Number(process.argv[2] ?? 20_000);
const OTHER_USERS = 2_000;
const MINE = 20;
const ROUNDS = 200;

async function time(rounds: number, run: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const services = await benchServices();
  const { models, sessionList, cache } = services;
  try {
    const now = Date.now();
    const session = (userId: Types.ObjectId, i: number) => ({
      sessionId: randomUUID(),
      userId,
      deviceInfo: `device ${i}`,
      ipAddress: '10.0.0.1',
      userAgent: 'bench',
      lastActivity: new Date(now - i * 1000),
      createdAt: new Date(now - i * 1000),
      expiresAt: new Date(now + 86_400_000),
      idleExpiresAt: new Date(now + 86_400_000),
    });
    const others = Array.from({ length: OTHER_USERS }, () => new Types.ObjectId());
    for (let i = 0; i < TOTAL; i += 1000) {
      await models.Session.insertMany(Array.from({ length: Math.min(1000, TOTAL - i) }, (_, j) => session(others[(i + j) % OTHER_USERS]!, i + j)));
    }
    const me = new Types.ObjectId();
    const userId = me.toHexString();
    const mine = Array.from({ length: MINE }, (_, i) => session(me, i));
    await models.Session.insertMany(mine);
    // The Redis side as a signed-in user's requests leave it: states, the whole list.
    const epoch = await cache.epoch(userId);
    for (const s of mine) await cache.fill(userId, s.sessionId, { state: 'active', userId }, 86_400_000, epoch);
    await sessionList.fill(userId, mine.map((s) => fromRecord(s)), epoch);
    const probe = mine[7]!.sessionId;
    const since = new Date(now - 5_000);

    const rows: Array<[string, number[], number[]]> = [
      [
        'the session list (sessions query, the session cap past it)',
        await time(ROUNDS, () => Promise.all([models.Session.find({ userId, ...activeFilter() }, SESSION_FIELDS).sort({ createdAt: -1 }).lean(), pendingRevoked(models, userId)])),
        await time(ROUNDS, () => sessionList.read(userId)),
      ],
      [
        "one session's device name (every sign-out's timeline entry)",
        await time(ROUNDS, () => models.Session.findOne({ sessionId: probe }, { deviceInfo: 1 }).lean()),
        await time(ROUNDS, () => sessionList.find(userId, probe)),
      ],
      [
        "one session's owner (revokeSession's check)",
        await time(ROUNDS, () => models.Session.exists({ sessionId: probe, userId, ...activeFilter() })),
        await time(ROUNDS, () => sessionList.read(userId)),
      ],
      [
        "new sign-ins since a stream's start (every stream's replay)",
        await time(ROUNDS, () => models.Session.find({ userId, createdAt: op({ $gte: since }) }).lean()),
        await time(ROUNDS, () => sessionList.known(userId)),
      ],
    ];
    console.log(`stand-in: ${TOTAL} other sessions, ${MINE} of the user's; ${ROUNDS} rounds each; ms p50 / p95`);
    console.log('| read | MongoDB p50 / p95 | Redis p50 / p95 | MongoDB ÷ Redis (p50) |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, mongo, redis] of rows) {
      const m = percentiles(mongo);
      const r = percentiles(redis);
      console.log(`| ${name} | ${m.p50.toFixed(2)} / ${m.p95.toFixed(2)} | ${r.p50.toFixed(2)} / ${r.p95.toFixed(2)} | ${(m.p50 / r.p50).toFixed(1)}× |`);
    }
  } finally {
    await services.done();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
