import type { Connection } from 'mongoose';
import type { RedisClient } from '../redis-client.js';

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

/** Every dependency answers (or is the in-process stand-in). */
const allUp = (checks: HealthReport['checks']): boolean => checks.mongo !== 'down' && checks.redis !== 'down';

/** What the checks read of the services (src/services.ts), named here so that this file needs nothing else of them. */
interface Dependencies {
  connection: Connection;
  redis: RedisClient | null;
}

/** Pings each dependency: MongoDB, and Redis unless it is the in-process stand-in ('embedded'). */
export async function checkDependencies(deps: Dependencies): Promise<HealthReport['checks']> {
  const { connection, redis } = deps;
  const [mongo, redisState] = await Promise.all([
    probe(async () => {
      if (!connection.db) throw new Error('not connected');
      await connection.db.admin().ping();
    }),
    redis ? probe(() => redis.ping()) : Promise.resolve<CheckState>('embedded'),
  ]);
  return { mongo, redis: redisState };
}

/** Pings each dependency; `down` if any is unreachable (docs/operations.md, "Health checks": 503 naming the failing check). */
export async function checkHealth(services: Dependencies & { startedAt: number; config: { serverId: string } }): Promise<HealthReport> {
  const checks = await checkDependencies(services);
  return {
    status: allUp(checks) ? 'ok' : 'down',
    uptime: Math.round((Date.now() - services.startedAt) / 1000),
    serverId: services.config.serverId,
    checks,
  };
}

/**
 * The Kubernetes probes. `/livez`: the process answers (nothing is checked:
 * a database outage must not get every instance restarted). `/readyz`: this
 * instance should get traffic: every dependency up and not shutting down
 * (SIGTERM), else 503 with the reason, so that the load balancer takes it out.
 */
export async function checkReadiness(services: Dependencies & { streams: { readonly stopping: boolean } }): Promise<{ status: 200 | 503; body: { status: 'ready' | 'not ready'; draining: boolean; checks: HealthReport['checks'] } }> {
  const checks = await checkDependencies(services);
  const draining = services.streams.stopping;
  const ready = !draining && allUp(checks);
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', draining, checks } };
}
