import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node loads its CommonJS entry (as Apollo does), while Vite
    // would pick the ESM one — two copies of graphql, which it refuses to mix. Use Node's choice.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time even on two cores (vitest's default there is one): most suites wait on
    // servers, sockets and timers rather than the CPU, and the run takes ~5 min instead of ~9.
    // Three were no faster here and stretched the typed client's reconnect backoff past its timeout.
    maxWorkers: 2,
  },
});
