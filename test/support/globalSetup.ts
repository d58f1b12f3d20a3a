import { freePort } from './freePort.js';
import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { findOrBuildTemporalCli } from '../../scripts/temporalCli.js';
import { searchAttributeKeys } from '../../src/contract/searchAttributes.js';
import { ensureDatabase, runMigrations } from '../../src/infra/migrationRunner.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    databaseUrl: string;
    redisUrl: string;
  }
}

const baseDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export default async function setup(project: TestProject) {
  const temporalCli = await findOrBuildTemporalCli((line) => console.log(`[temporal-cli] ${line}`));

  // An isolated database per run, so runs (and developers' data) never meet.
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/partnerflow_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = url.toString();
  await ensureDatabase(databaseUrl);
  await runMigrations(databaseUrl);

  // The Web UI runs too: browser tests filter workflows there by search attribute.
  const uiPort = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCli },
      searchAttributes: [...searchAttributeKeys],
      ui: true,
      uiPort,
      log: { format: 'pretty', level: 'error' },
      extraArgs: ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL'],
    },
  });

  project.provide('temporalAddress', env.connection.options.address);
  project.provide('temporalUiUrl', `http://127.0.0.1:${uiPort}`);
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

  return async () => {
    await env.teardown();
    const admin = new pg.Client({ connectionString: baseDatabaseUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
}

