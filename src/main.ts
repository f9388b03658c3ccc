import type { Server } from 'node:http';
import { createHttpServer, drainServer, httpTimeouts } from './http/node-server.js';
import { createMetricsServer, listenOn } from './http/metrics-server.js';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './server.js';
import { flushLog } from './logger.js';
import { startJobs } from './jobs.js';
import { createServices, StartupError, type Services } from './services.js';

/** Reads the environment, connects, starts the background jobs, listens. Everything else lives in server.ts. */
async function main(): Promise<void> {
  const config = loadConfig();
  const services = await createServices(config);
  const stopJobs = await startJobs(services);
  const server = createHttpServer(createApp(services), httpTimeouts(config));
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(services.metrics, services.log);
  let port: number;
  let metricsPort: number | undefined;
  try {
    port = await listenOrExplain(server, 'PORT', config.port);
    if (metricsServer) metricsPort = await listenOrExplain(metricsServer, 'METRICS_PORT', config.metricsPort!);
  } catch (error) {
    server.close();
    await stopJobs();
    await services.close();
    throw error;
  }
  const base = `http://localhost:${port}`;
  const metricsLine = metricsPort === undefined ? '' : `; metrics on http://localhost:${metricsPort}/metrics`;
  services.log.info({ port, metricsPort, env: config.nodeEnv }, `logout-all listening on ${base}/graphql and ${base}/devices${metricsLine}`);
  // Log lines go out in blocks (src/logger.ts); the ones that mark the process's life go out now.
  void flushLog(services.log);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    services.log.info({ signal }, 'shutting down');
    void flushLog(services.log);
    const timeoutMs = services.config.shutdownTimeoutMs;
    metricsServer?.close();
    void drainServer(server, services.streams, timeoutMs)
      .then(() => closeWithin(services, stopJobs, timeoutMs))
      .then((closed) => flushLog(services.log).then(() => process.exit(closed ? 0 : 1)));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Listens on `port`; a port already taken is a StartupError naming it, which
 * main's caller prints as one line before exiting with status 1, rather than
 * the listen error's stack.
 */
async function listenOrExplain(server: Server, variable: string, port: number): Promise<number> {
  try {
    return await listenOn(server, port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${port} is already in use (${variable}): stop what listens on it, or set ${variable} to another port`);
    if (code === 'EACCES') throw new StartupError(`port ${port} needs privileges this process does not have (${variable}): choose a port above 1023`);
    throw error;
  }
}

/**
 * Closes the database and Redis connections, or gives up after `timeoutMs`:
 * a database that stopped answering would otherwise hold the process open
 * forever, waiting for its in-flight operations. False when it gave up.
 */
async function closeWithin(services: Services, stopJobs: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const closed = await Promise.race([
    stopJobs()
      .then(() => services.close())
      .then(() => true as const),
    gaveUp,
  ]);
  clearTimeout(timer);
  if (!closed) services.log.error({ timeoutMs }, 'shutdown: the database or Redis connections did not close in time; exiting anyway');
  return closed;
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`config: ${problem}`);
  } else if (error instanceof StartupError) {
    console.error(`startup: ${error.message}`);
  } else {
    console.error(error);
  }
  if (process.env.LOGOUT_ALL_WATCH === '1') {
    // Under `npm run dev`, `tsx watch` would outlive this process, waiting for an edit
    // that cannot fix a missing database. Asked to stop, it stops this process with
    // SIGTERM and exits with its code: 1, so the command ends and reports the failure.
    process.on('SIGTERM', () => process.exit(1));
    process.kill(process.ppid, 'SIGTERM');
    setTimeout(() => process.exit(1), 5000);
    return;
  }
  process.exit(1);
});
