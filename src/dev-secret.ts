import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/** The file in the development data directory that keeps the generated JWT_SECRET. */
export const DEV_SECRET_FILE = 'jwt-secret';

/** Shorter than production's minimum: not one this server wrote. */
const MIN_LENGTH = 32;

/**
 * `npm run dev` without JWT_SECRET: the secret generated for the first run is
 * kept in the development data directory (`.data/`, which `make clean`
 * removes) and read back by every later run, so that a reload (tsx watch
 * restarts the process on every edit) keeps every session signed in. Only in
 * development and with HS256 (the default JWT_ALGORITHM): tests keep a secret
 * per process, and production requires JWT_SECRET. The file is readable by its
 * owner only.
 */
export async function withDevelopmentSecret(config: Config, dataDir: string, log: Logger): Promise<Config> {
  if (!config.jwtSecretGenerated) return config;
  // ES256 and EdDSA sign with a private key (JWT_PRIVATE_KEY), generated per process when unset: not kept.
  if (config.nodeEnv !== 'development' || config.jwtAlgorithm !== 'HS256') {
    const unset = config.jwtAlgorithm === 'HS256' ? 'JWT_SECRET not set: using a random secret' : 'JWT_PRIVATE_KEY not set: using a random key';
    log.warn(`${unset} for this process; tokens stop working on restart`);
    return config;
  }
  const file = join(dataDir, DEV_SECRET_FILE);
  const kept = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  if (kept.length >= MIN_LENGTH) {
    log.info(`JWT_SECRET not set: using the development secret kept in ${file} (until \`make clean\`)`);
    return { ...config, jwtSecret: kept };
  }
  try {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${config.jwtSecret}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    log.info(`JWT_SECRET not set: generated a development secret, kept in ${file} so that restarts keep sessions (until \`make clean\`)`);
  } catch (error) {
    log.warn({ err: (error as Error).message }, `JWT_SECRET not set: could not keep the generated secret in ${file}; tokens stop working on restart`);
  }
  return config;
}
