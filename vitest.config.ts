import { configDefaults, defineConfig } from 'vitest/config';

// Two tiers, one run: `npm test` runs both projects; `npm run test:unit` runs
// only `unit` (vitest run --project unit), which needs no service at all.
//
// No globalSetup at the root: vitest always runs the root project's globalSetup,
// whichever projects are selected, so it lives in the integration project only.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'artifacts/vitest-results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Pure modules only: no PostgreSQL, Redis, Temporal, SMTP or network, so
          // they run in seconds. Worker threads start faster than forked processes.
          include: ['test/unit/**/*.test.ts'],
          pool: 'threads',
          // Every core (the default leaves one free). Projects with different
          // maxWorkers need their own group: the unit files run first, then the
          // integration files, in one `npm test`.
          maxWorkers: '100%',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          // One Temporal dev server, one throw-away database for the whole run; each
          // file brings its own task queue, queue prefix and SMTP server.
          globalSetup: ['test/support/globalSetup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
