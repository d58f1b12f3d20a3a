import { Worker as TemporalWorker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Worker as QueueWorker } from 'bullmq';
import { createActivities } from '../activities/index.js';
import { localTrialProvisioner, type TrialProvisioner } from '../activities/trialProvisioning.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../infra/logger.js';
import { createOutboxSweeper, type OutboxSweeper } from '../infra/outboxSweeper.js';
import { installTemporalRuntime } from '../infra/temporalLogger.js';
import type { Tracing } from '../infra/tracing.js';
import { reportUndeliverableInvitation } from '../mail/invitationUndeliverable.js';
import { ensureGrantReconcilerSchedule } from '../relationships/grantReconcilerSchedule.js';
import { createMailWorker } from '../mail/mailWorker.js';
import { createWebhookWorker } from '../webhooks/webhookWorker.js';
import { createWebhookTargetPolicy } from '../webhooks/webhookTarget.js';
import { openWorkerParts } from './system.js';
import { loadWorkflowBundle } from './workflowBundle.js';

export interface WorkerRuntimeOptions {
  /** Reuse a bundle (tests build one per file; traced when `tracing` is on); otherwise this process's bundle (workflowBundle.ts). */
  workflowBundle?: WorkflowBundleWithSourceMap;
  trialProvisioner?: TrialProvisioner;
  /** Tracing the process started first (startTracing): the workers' spans, flushed when the parts close. */
  tracing?: Tracing;
  /** Create (or update) the grant reconciler's schedule: the worker process does; tests run passes themselves. */
  scheduleGrantReconciler?: boolean;
}

export interface WorkerRuntime {
  /** Resolves when every worker has stopped. */
  run(): Promise<void>;
  /** Hands queued email and webhook rows whose job never reached Redis over again (every OUTBOX_SWEEP_INTERVAL_SECONDS). */
  outboxSweeper: OutboxSweeper;
  shutdown(): Promise<void>;
}

/**
 * The worker process: the Temporal worker and the BullMQ workers, on the
 * parts the composition root opens for it (closed once, after they stop).
 */
export async function createWorkerRuntime(config: Config, log: Logger, options: WorkerRuntimeOptions = {}): Promise<WorkerRuntime> {
  installTemporalRuntime(log);
  const parts = await openWorkerParts(config, log, options.tracing ? { tracing: options.tracing } : {});
  const { db, redis } = parts;

  const temporalWorker = await TemporalWorker.create({
    connection: parts.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: options.workflowBundle ?? (await loadWorkflowBundle({ traced: parts.tracing.enabled })),
    // Tracing on: activity spans, and the sink the workflow spans leave the sandbox through.
    ...parts.tracing.workerOptions,
    // Activations arrive decrypted and completions leave encrypted; workflow code never sees the codec.
    dataConverter: parts.dataConverter,
    activities: createActivities({
      db,
      mail: parts.mail,
      webhooks: parts.webhooks,
      trialProvisioner: options.trialProvisioner ?? localTrialProvisioner,
      linkSecret: config.LINK_SECRET,
      temporal: parts.temporal,
      publicBaseUrl: config.PUBLIC_BASE_URL,
    }),
  });

  if (options.scheduleGrantReconciler) {
    const outcome = await ensureGrantReconcilerSchedule(parts.temporal, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      intervalSeconds: config.GRANT_RECONCILE_INTERVAL_SECONDS,
      pageSize: 100,
    });
    log.info({ event: 'grantReconciler.scheduled', outcome, everySeconds: config.GRANT_RECONCILE_INTERVAL_SECONDS }, 'grant reconciler scheduled');
  }

  const queueWorkers: QueueWorker[] = [
    createMailWorker({
      connection: redis,
      prefix: config.QUEUE_PREFIX,
      db,
      templates: parts.templates,
      transport: parts.transport,
      from: config.MAIL_FROM,
      ratePerSecond: config.MAIL_RATE_PER_SECOND,
      log,
      linkSecret: config.LINK_SECRET,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      redis,
      recipientPerHour: config.RECIPIENT_MAIL_PER_HOUR,
      onUndeliverable: reportUndeliverableInvitation(parts.temporal, log),
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

  // In this process rather than a Temporal Schedule: it moves rows from Postgres to Redis only, next
  // to the queue workers, and must keep doing so while Temporal is down.
  const outboxSweeper = createOutboxSweeper({ outboxes: [parts.mail.swept, parts.webhooks.swept], graceMs: config.OUTBOX_SWEEP_GRACE_SECONDS * 1000, log });
  if (config.OUTBOX_SWEEP_INTERVAL_SECONDS > 0) outboxSweeper.start(config.OUTBOX_SWEEP_INTERVAL_SECONDS * 1000);

  let running: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  return {
    outboxSweeper,
    run() {
      running ??= temporalWorker.run();
      return running;
    },
    shutdown() {
      stopping ??= (async () => {
        // Stop taking work, let in-flight jobs and activities finish, then close the parts.
        // worker.close() (not forced) waits for the jobs it is running; the Temporal connection
        // outlives them because a refused email may still need to signal its workflow.
        if (temporalWorker.getState() === 'RUNNING') temporalWorker.shutdown();
        await Promise.all([outboxSweeper.stop(), running?.catch((err: unknown) => log.error({ err }, 'temporal worker failed')), ...queueWorkers.map((w) => w.close())]);
        await parts.close();
      })();
      return stopping;
    },
  };
}
