import { Client } from '@temporalio/client';
import { NativeConnection, Worker as TemporalWorker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Worker as QueueWorker } from 'bullmq';
import { createActivities } from '../activities/index.js';
import { localTrialProvisioner, type TrialProvisioner } from '../activities/trialProvisioning.js';
import type { Config } from '../config/config.js';
import { createDatabase } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { createMailQueue, createWebhookQueue } from '../infra/queues.js';
import { createWorkerRedis } from '../infra/redis.js';
import { temporalConnectionOptions } from '../infra/temporalConnection.js';
import { compileEmailTemplates } from '../mail/emailTemplates.js';
import { createMailOutbox } from '../mail/mailOutbox.js';
import { createMailWorker } from '../mail/mailWorker.js';
import { createSmtpTransport } from '../mail/smtpTransport.js';
import { createWebhookOutbox } from '../webhooks/webhookOutbox.js';
import { createWebhookWorker } from '../webhooks/webhookWorker.js';
import { createWebhookTargetPolicy } from '../webhooks/webhookTarget.js';
import { reportUndeliverableInvitation } from '../mail/invitationUndeliverable.js';
import { installTemporalRuntime } from '../infra/temporalLogger.js';
import { bundleWorkflows } from './workflowBundle.js';

export interface WorkerRuntimeOptions {
  /** Reuse a bundle (tests build one per file); otherwise bundled here, once. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  trialProvisioner?: TrialProvisioner;
}

export interface WorkerRuntime {
  /** Resolves when every worker has stopped. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The worker process: the Temporal worker and the BullMQ workers, with the
 * connections they share created once here and closed once on shutdown.
 */
export async function createWorkerRuntime(config: Config, log: Logger, options: WorkerRuntimeOptions = {}): Promise<WorkerRuntime> {
  installTemporalRuntime(log);
  const db = createDatabase(config.DATABASE_URL);
  const redis = createWorkerRedis(config.REDIS_URL);
  const mailQueue = createMailQueue(redis, config.QUEUE_PREFIX, log);
  const mail = createMailOutbox(db, mailQueue);
  const webhookQueue = createWebhookQueue(redis, config.QUEUE_PREFIX, log);
  const webhooks = createWebhookOutbox(db, webhookQueue, { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS });
  const templates = await compileEmailTemplates();
  const transport = createSmtpTransport(config.SMTP_URL);

  const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
  // The mail worker signals workflows over the same connection the Temporal worker polls on.
  const temporalClient = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const temporalWorker = await TemporalWorker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities({
      db,
      mail,
      webhooks,
      trialProvisioner: options.trialProvisioner ?? localTrialProvisioner,
      linkSecret: config.LINK_SECRET,
    }),
  });

  const queueWorkers: QueueWorker[] = [
    createMailWorker({
      connection: redis,
      prefix: config.QUEUE_PREFIX,
      db,
      templates,
      transport,
      from: config.MAIL_FROM,
      ratePerSecond: config.MAIL_RATE_PER_SECOND,
      log,
      linkSecret: config.LINK_SECRET,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      redis,
      recipientPerHour: config.RECIPIENT_MAIL_PER_HOUR,
      onUndeliverable: reportUndeliverableInvitation(temporalClient, log),
    }),
    createWebhookWorker({
      connection: redis,
      prefix: config.QUEUE_PREFIX,
      db,
      log,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      targets: createWebhookTargetPolicy({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS }),
    }),
  ];

  let running: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  return {
    run() {
      running ??= temporalWorker.run();
      return running;
    },
    shutdown() {
      stopping ??= (async () => {
        // Stop taking work, let in-flight jobs and activities finish, then close connections.
        // worker.close() (not forced) waits for the jobs it is running; the Temporal connection
        // outlives them because a refused email may still need to signal its workflow.
        if (temporalWorker.getState() === 'RUNNING') temporalWorker.shutdown();
        await Promise.all([running?.catch((err: unknown) => log.error({ err }, 'temporal worker failed')), ...queueWorkers.map((w) => w.close())]);
        await connection.close();
        await mailQueue.close();
        await webhookQueue.close();
        transport.close();
        await db.$disconnect();
        redis.disconnect();
      })();
      return stopping;
    },
  };
}
