import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS and ESM copies. Node (and so Yoga) loads the CJS one;
    // Vite would hand our code the ESM one, and `instanceof GraphQLError` would
    // then fail between the two. One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['src/**/*.test.ts', 'rest-compat/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests talk to real servers: give slow machines room, but every
    // wait inside a test is for an event, never a fixed sleep.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
