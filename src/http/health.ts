import type { Services } from '../services.js';

export type CheckState = 'up' | 'down' | 'embedded';

export interface HealthReport {
  status: 'ok' | 'down';
  uptime: number;
  serverId: string;
  checks: { mongo: CheckState; redis: CheckState };
}

const CHECK_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** Pings each dependency; `down` if any is unreachable (docs/operations.md, "Health checks": 503 naming the failing check). */
export async function checkHealth(services: Services): Promise<HealthReport> {
  const { connection, redis } = services;
  const [mongo, redisState] = await Promise.all([
    probe(async () => {
      if (!connection.db) throw new Error('not connected');
      await connection.db.admin().ping();
    }),
    redis ? probe(() => redis.ping()) : Promise.resolve<CheckState>('embedded'),
  ]);
  return {
    status: mongo === 'down' || redisState === 'down' ? 'down' : 'ok',
    uptime: Math.round((Date.now() - services.startedAt) / 1000),
    serverId: services.config.serverId,
    checks: { mongo, redis: redisState },
  };
}
