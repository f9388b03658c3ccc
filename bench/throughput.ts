/**
 * Authenticated reads under load, this project against three peers doing the
 * same read (bench/peers/peer.ts: verify an HS256 bearer token with a
 * KeyObject, one Redis GET for a cached profile, answer JSON): bare
 * `node:http`, an Express 5 route, and a bare GraphQL Yoga. Every server runs
 * in its own process; autocannon drives them in alternating rounds within one
 * run, so machine noise falls on all of them alike. Printed: req/s, p99 and
 * the serving process's CPU time per request per target (median over rounds),
 * and the ratios the project is held to. Other load on the machine lowers
 * req/s; CPU per request it disturbs much less.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/throughput.ts
 *
 * BENCH_ROUNDS (3), BENCH_DURATION seconds per round (5), BENCH_CONNECTIONS (50);
 * BENCH_ONLY (a regular expression) runs only the targets whose names match;
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the project there (node --cpu-prof);
 * BENCH_PROJECT=dist runs `node dist/src/main.js` (after `npm run build`) instead of the sources under tsx.
 * The project runs at its default log level (info), its log going to a file, as in production.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { benchTarget, freePort, median, startProcess, type Started } from './processes.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECRET = 'bench-secret-shared-by-every-instance-0123';

interface Target {
  name: string;
  /** The process serving it, whose CPU time per request is measured. */
  server: Started;
  url: string;
  method: 'GET' | 'POST';
  body?: string;
}

/**
 * CPU seconds a process has used (user + system, from /proc; null elsewhere).
 * Per request, this is the figure other load on the machine disturbs least.
 */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const ME_QUERY = JSON.stringify({ query: '{ me { id email name } }' });

async function main(): Promise<void> {
  const { database, redisUrl, drop } = benchTarget('la_bench');
  const children: Started[] = [];
  const redis = new Redis(redisUrl);
  let profileKey: string | undefined;
  try {
    const projectPort = await freePort();
    const dist = process.env.BENCH_PROJECT === 'dist';
    const project = await startProcess({
      name: 'project',
      script: dist ? 'dist/src/main.js' : 'src/main.ts',
      typescript: !dist,
      port: projectPort,
      env: {
        NODE_ENV: 'development',
        MONGODB_URI: database,
        REDIS_URL: redisUrl,
        JWT_SECRET: SECRET,
        RATE_LIMIT_PER_IP: '1000000',
        RATE_LIMIT_PER_ACCOUNT_ADDRESS: '1000000',
        RATE_LIMIT_PER_ACCOUNT: '1000000',
        SERVER_ID: 'bench',
        ...(process.env.BENCH_CPU_PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}` } : {}),
      },
      logFile: `/tmp/logout-all-bench-${process.pid}.log`,
    });
    children.push(project);
    const base = `http://127.0.0.1:${projectPort}`;

    // One user with three sessions (a phone, a laptop, this bench).
    const credentials = { name: 'Bench User', email: `bench.${Date.now()}@example.com`, password: 'bench-password-1' };
    const post = (path: string, body: object) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        async (r) => {
          if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
          return (await r.json()) as { token: string; user: { id: string } };
        },
      );
    await post('/api/auth/register', credentials);
    await post('/api/auth/login', { email: credentials.email, password: credentials.password, deviceInfo: 'laptop' });
    const { token, user } = await post('/api/auth/login', { email: credentials.email, password: credentials.password });
    profileKey = `bench:profile:${user.id}`;
    await redis.set(profileKey, JSON.stringify(user), 'EX', 3600);

    const peers: Record<string, { url: string; server: Started }> = {};
    for (const kind of ['http', 'express', 'yoga'] as const) {
      const port = await freePort();
      const server = await startProcess({ name: kind, script: 'bench/peers/peer.ts', args: [kind], typescript: true, port, env: { JWT_SECRET: SECRET, REDIS_URL: redisUrl } });
      children.push(server);
      peers[kind] = { url: `http://127.0.0.1:${port}`, server };
    }

    const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
    const allTargets: Target[] = [
      { name: 'bare node:http (floor)', server: peers.http!.server, url: `${peers.http!.url}/me`, method: 'GET' },
      { name: 'Express 5 route', server: peers.express!.server, url: `${peers.express!.url}/me`, method: 'GET' },
      { name: 'bare Yoga { me }', server: peers.yoga!.server, url: `${peers.yoga!.url}/graphql`, method: 'POST', body: ME_QUERY },
      { name: 'REST GET /api/auth/me', server: project, url: `${base}/api/auth/me`, method: 'GET' },
      { name: 'GraphQL { me }', server: project, url: `${base}/graphql`, method: 'POST', body: ME_QUERY },
      { name: 'REST GET /api/auth/sessions', server: project, url: `${base}/api/auth/sessions`, method: 'GET' },
      {
        name: 'GraphQL { sessions { id } }',
        server: project,
        url: `${base}/graphql`,
        method: 'POST',
        body: JSON.stringify({ query: '{ sessions { id } }' }),
      },
    ];
    const targets = allTargets.filter((target) => only === null || only.test(target.name));
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const hit = (target: Target, duration: number) =>
      autocannon({ url: target.url, method: target.method, body: target.body, headers, connections: CONNECTIONS, duration });

    for (const target of targets) {
      const warm = await hit(target, 1);
      if (warm.non2xx > 0 || warm.errors > 0) throw new Error(`${target.name}: ${warm.non2xx} non-2xx, ${warm.errors} errors in warm-up`);
    }
    const samples = new Map(targets.map((t) => [t.name, { rps: [] as number[], p99: [] as number[], cpu: [] as number[], bad: 0 }]));
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Alternate the order, so no target always runs right after the same neighbour.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        const cpuBefore = cpuSeconds(target.server.child.pid);
        const result = await hit(target, DURATION);
        const cpuAfter = cpuSeconds(target.server.child.pid);
        const sample = samples.get(target.name)!;
        if (cpuBefore !== null && cpuAfter !== null && result.requests.total > 0) {
          sample.cpu.push(((cpuAfter - cpuBefore) * 1e6) / result.requests.total);
        }
        sample.rps.push(result.requests.average);
        sample.p99.push(result.latency.p99);
        sample.bad += result.non2xx + result.errors;
      }
      process.stderr.write(`round ${round}/${ROUNDS} done\n`);
    }

    const figure = (name: string) => {
      const s = samples.get(name) ?? { rps: [], p99: [], cpu: [], bad: 0 };
      return { rps: median(s.rps), p99: median(s.p99), cpu: s.cpu.length > 0 ? median(s.cpu) : null, bad: s.bad };
    };
    console.log(
      `\nthroughput: ${ROUNDS} alternating rounds x ${DURATION} s, ${CONNECTIONS} connections, Node ${process.version}, ` +
        `${dist ? 'dist/' : 'sources under tsx'}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    );
    console.log(`| server | req/s | p99 ms | server CPU µs/req | non-2xx |\n| --- | ---: | ---: | ---: | ---: |`);
    for (const target of targets) {
      const f = figure(target.name);
      console.log(`| ${target.name} | ${Math.round(f.rps)} | ${f.p99} | ${f.cpu === null ? '–' : Math.round(f.cpu)} | ${f.bad} |`);
    }
    const ratio = (a: string, b: string) => figure(a).rps / figure(b).rps;
    const checks: Array<[string, number, number]> = [
      ['REST me / Express', ratio('REST GET /api/auth/me', 'Express 5 route'), 1.2],
      ['GraphQL me / bare Yoga', ratio('GraphQL { me }', 'bare Yoga { me }'), 1.3],
      ['REST sessions / REST me', ratio('REST GET /api/auth/sessions', 'REST GET /api/auth/me'), 0.5],
      ['GraphQL sessions / GraphQL me', ratio('GraphQL { sessions { id } }', 'GraphQL { me }'), 0.5],
      ['REST me / bare node:http', ratio('REST GET /api/auth/me', 'bare node:http (floor)'), 0],
    ];
    console.log('\n| ratio | measured | target |\n| --- | ---: | ---: |');
    for (const [name, value, target] of checks) {
      if (!Number.isFinite(value) || value === 0) continue;
      console.log(`| ${name} | ${value.toFixed(2)} | ${target > 0 ? `≥ ${target.toFixed(1)} ${value >= target ? 'met' : 'MISSED'}` : '–'} |`);
    }
  } finally {
    if (profileKey) await redis.del(profileKey).catch(() => {});
    redis.disconnect();
    for (const child of children) await child.stop();
    await drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
