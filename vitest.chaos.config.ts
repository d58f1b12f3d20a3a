import { defineConfig } from 'vitest/config';

// `npm run test:chaos` (docs/reliability.md): the chaos suite, apart from `npm test`.
// It brings private instances of every service, so it needs no globalSetup and runs
// alone: one file, one fork, its own long timeout.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
