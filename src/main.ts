import { createHttpServer, drainServer } from './http/node-server.js';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './server.js';
import { flushLog } from './logger.js';
import { createServices, StartupError } from './services.js';

/** Reads the environment, connects, listens. Everything else lives in server.ts. */
async function main(): Promise<void> {
  const config = loadConfig();
  const services = await createServices(config);
  const server = createHttpServer(createApp(services));
  server.listen(config.port, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    services.log.info({ port, env: config.nodeEnv }, `logout-all listening on http://localhost:${port}/graphql`);
    // Log lines go out in blocks (src/logger.ts); the ones that mark the process's life go out now.
    void flushLog(services.log);
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    services.log.info({ signal }, 'shutting down');
    void flushLog(services.log);
    void drainServer(server, services.streams, services.config.shutdownTimeoutMs)
      .then(() => services.close())
      .then(() => flushLog(services.log))
      .then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
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
