import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { findOrBuildTemporalCli } from '../../scripts/temporalCli.js';
import { searchAttributeKeys } from '../../src/contract/searchAttributes.js';
import { ensureDatabase, runMigrations } from '../../src/infra/migrationRunner.js';
import type { Cleanup } from './cleanup.js';

export interface BenchEnvironment {
  /** Unique per run: names the database, the task queues and the Redis key prefix. */
  runId: string;
  temporalAddress: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
}

/**
 * A Temporal dev server of our own, a throw-away database and a unique Redis
 * key prefix, each registered with `cleanup` as soon as it exists: the server
 * is stopped, the database dropped and every key under the prefix deleted.
 */
export async function startBenchEnvironment(
  cleanup: Cleanup,
  settings: { baseDatabaseUrl: string; redisUrl: string },
  log: (line: string) => void,
): Promise<BenchEnvironment> {
  const runId = `${Date.now()}${randomBytes(3).toString('hex')}`;
  const queuePrefix = `pfbench-${runId}`;
  cleanup.defer(`delete Redis keys ${queuePrefix}:*`, async () => {
    const left = await deleteKeys(settings.redisUrl, `${queuePrefix}*`);
    log(`redis: deleted every key under ${queuePrefix} (${left} left)`);
  });

  const url = new URL(settings.baseDatabaseUrl);
  const database = `partnerflow_bench_${runId}`;
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  cleanup.defer(`drop database ${database}`, async () => {
    const admin = new pg.Client({ connectionString: settings.baseDatabaseUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
      log(`postgres: dropped ${database}`);
    } finally {
      await admin.end();
    }
  });
  await ensureDatabase(databaseUrl);
  await runMigrations(databaseUrl);

  const temporalCli = await findOrBuildTemporalCli((line) => log(`[temporal-cli] ${line}`));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCli },
      searchAttributes: [...searchAttributeKeys],
      log: { format: 'pretty', level: 'error' },
      // The local launcher's settings (scripts/temporal.ts): SQLite in WAL mode, and eager activity
      // execution (an activity a workflow task schedules comes back with that task's answer to the
      // worker that asked, instead of through the task queue). Every side runs on this one server;
      // BENCH_EAGER=0 runs it without, to measure what eager execution is worth.
      extraArgs: ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL', '--dynamic-config-value', `system.enableActivityEagerExecution=${process.env.BENCH_EAGER !== '0'}`],
    },
  });
  cleanup.defer('stop the Temporal dev server', async () => {
    await env.teardown();
    log('temporal: dev server stopped');
  });

  return { runId, temporalAddress: env.connection.options.address, databaseUrl, redisUrl: settings.redisUrl, queuePrefix };
}

/** Deletes every key matching `pattern` (SCAN, never KEYS); returns how many still match afterwards. */
async function deleteKeys(redisUrl: string, pattern: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const scanAll = async () => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        found.push(...keys);
        cursor = nextCursor;
      } while (cursor !== '0');
      return found;
    };
    const keys = await scanAll();
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    return (await scanAll()).length;
  } finally {
    redis.disconnect();
  }
}
