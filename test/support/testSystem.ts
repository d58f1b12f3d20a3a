import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import type { TrialProvisioner } from '../../src/activities/trialProvisioning.js';
import { buildApp } from '../../src/system/httpApp.js';
import { createMetricsRegistry } from '../../src/operator/healthRoutes.js';
import type { Config } from '../../src/config/config.js';
import { createProcessLogger, openApiParts } from '../../src/system/system.js';
import { bundleWorkflows } from '../../src/system/workflowBundle.js';
import { createWorkerRuntime, type WorkerRuntime } from '../../src/system/workerRuntime.js';
import { startSmtpCatcher } from './smtpCatcher.js';
import { testConfig } from './testConfig.js';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test file (a worker restart reuses it). */
export const sharedBundle = () => (bundle ??= bundleWorkflows());

export interface TestSystemOptions {
  trialProvisioner?: TrialProvisioner;
  rejectRecipient?: (address: string) => boolean;
  /** Extra configuration (e.g. WEBHOOK_ATTEMPTS) for the API and the worker. */
  env?: Record<string, string>;
  /** The API's port, when something started before it must know its address (default: any free one). */
  port?: number;
}

/**
 * The whole system for one test file, on the run's real services: the shared
 * Temporal dev server and database, Redis, and an SMTP server of its own. Task
 * queue and queue prefix are unique, so files run in parallel unseen.
 */
export async function startTestSystem(name: string, options: TestSystemOptions = {}) {
  const suffix = `${name}-${randomBytes(4).toString('hex')}`;
  const smtp = await startSmtpCatcher(options.rejectRecipient ? { rejectRecipient: options.rejectRecipient } : {});
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const config: Config = testConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    QUEUE_PREFIX: `pftest-${suffix}`,
    SMTP_URL: smtp.url,
    PUBLIC_BASE_URL: baseUrl,
    ...options.env,
  });
  const log = createProcessLogger(config, `test-${name}`);
  // The API's parts, as src/system/apiMain.ts opens them; the worker runtime opens its own.
  const api = await openApiParts(config, log);
  server.on('request', buildApp({ ...api, registry: createMetricsRegistry() }));

  const workerOptions = {
    workflowBundle: await sharedBundle(),
    ...(options.trialProvisioner ? { trialProvisioner: options.trialProvisioner } : {}),
  };
  let worker: WorkerRuntime = await createWorkerRuntime(config, log, workerOptions);
  let running = worker.run();

  return {
    config,
    baseUrl,
    smtp,
    log,
    db: api.db,
    /** The API's Redis connection, for tests that read what is stored there. */
    redis: api.redis,
    temporal: api.temporal,
    mailQueue: api.mailQueue,
    webhookQueue: api.webhookQueue,
    /** The API's mail outbox, for tests that enqueue email themselves. */
    mail: api.mail,
    operatorToken: config.OPERATOR_TOKEN,
    /** Stops the worker process's parts and starts them again, as after a crash or deploy. */
    async restartWorker() {
      await worker.shutdown();
      await running;
      worker = await createWorkerRuntime(config, log, workerOptions);
      running = worker.run();
    },
    async stopWorker() {
      await worker.shutdown();
      await running;
    },
    async startWorker() {
      worker = await createWorkerRuntime(config, log, workerOptions);
      running = worker.run();
    },
    async stop() {
      await worker.shutdown();
      await running.catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.mailQueue.obliterate({ force: true }).catch(() => undefined);
      await api.webhookQueue.obliterate({ force: true }).catch(() => undefined);
      await api.close();
      await smtp.close();
    },
  };
}

export type TestSystem = Awaited<ReturnType<typeof startTestSystem>>;
