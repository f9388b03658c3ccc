import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedMongoError, startEmbeddedMongo } from '../src/embedded-mongo.js';

const FERRETDB_SOURCES = fileURLToPath(new URL('../test-infra/ferretdb', import.meta.url));

describe('the embedded MongoDB-wire server (MONGODB_URI unset)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('is FerretDB where Go is available: it answers MongoDB commands, keeps data in the given folder, and stops', async () => {
    const said: string[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'logout-all-embedded-'));
    try {
      const embedded = await startEmbeddedMongo({ dataDir, say: (line) => said.push(line) });
      expect(embedded.description).toMatch(/^MONGODB_URI not set: using embedded FerretDB .* data in .*ferretdb\/ until `make clean`$/);
      const connection = await mongoose.createConnection(embedded.uri, { dbName: 'embedded_check', serverSelectionTimeoutMS: 5000 }).asPromise();
      await connection.collection('things').insertOne({ name: 'kept' });
      expect(await connection.collection('things').countDocuments()).toBe(1);
      await connection.close();
      await embedded.stop();
      await expect(
        mongoose.createConnection(embedded.uri, { serverSelectionTimeoutMS: 500 }).asPromise(),
      ).rejects.toThrow();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names the ways out in one line when neither FerretDB nor mongodb-memory-server can start', async () => {
    // A checkout whose FerretDB was never built, on a machine without Go or a mongod.
    const root = mkdtempSync(join(tmpdir(), 'logout-all-nogo-'));
    cpSync(FERRETDB_SOURCES, join(root, 'test-infra', 'ferretdb'), { recursive: true, filter: (path) => !/\/(bin|\.run)$/.test(path) });
    process.env.GO = join(root, 'no-go-here');
    process.env.MONGOMS_SYSTEM_BINARY = join(root, 'no-mongod-here');
    const said: string[] = [];
    try {
      const error = await startEmbeddedMongo({ repoRoot: root, say: (line) => said.push(line) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddedMongoError);
      const message = (error as Error).message;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toContain('Install Go');
      expect(message).toContain('set MONGODB_URI');
      expect(message).toContain('make backend');
      expect(said).toEqual([expect.stringMatching(/FerretDB unavailable .*no-go-here.*trying mongodb-memory-server/)]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
