import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { projectRoot } from '../../src/config/projectRoot.js';
import type { CeilingActivities, minimalOnboardingWorkflow, plainWorkflow } from '../workflows/ceilingWorkflows.js';
import { shapeAcceptUpdate, shapeInvitedQuery } from '../workflows/ceilingWorkflows.js';
import type { BenchEnvironment } from './benchEnvironment.js';
import type { Cleanup } from './cleanup.js';
import { legTimer, type OnboardingSystem } from './onboardingSystem.js';
import { pollUntil } from './stats.js';

const activities: CeilingActivities = { noop: () => Promise.resolve() };

/**
 * The two ceilings of issue 13 on the bench's own Temporal dev server: a
 * plain one-activity workflow and the minimal onboarding shape, on a task
 * queue and worker of their own (default worker options, as the product's
 * worker), driven straight through the client. Each is an OnboardingSystem so
 * the bench runs and reports it like the other sides; its legs carry the bare
 * start and the Update round trip the targets are measured against.
 */
export async function startCeilingSystems(env: BenchEnvironment, cleanup: Cleanup, settings: { pollMs: number; stepTimeoutMs: number }) {
  const taskQueue = `bench-ceiling-${env.runId}`;
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.join(projectRoot, 'bench', 'workflows', 'ceilingWorkflows.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const workerConnection = await NativeConnection.connect({ address: env.temporalAddress });
  cleanup.defer('close the ceiling worker connection', () => workerConnection.close());
  const worker = await Worker.create({ connection: workerConnection, namespace: 'default', taskQueue, workflowBundle, activities });
  const running = worker.run();
  cleanup.defer('stop the ceiling worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  const connection = await Connection.connect({ address: env.temporalAddress });
  cleanup.defer('close the ceiling client connection', () => connection.close());
  const client = new Client({ connection, namespace: 'default' });

  const plain: OnboardingSystem = {
    name: 'plain workflow',
    async onboard(index) {
      const timer = legTimer();
      const handle = await client.workflow.start<typeof plainWorkflow>('plainWorkflow', { taskQueue, workflowId: `plain-${env.runId}-${index}` });
      const started = timer.lap('start workflow');
      await handle.result();
      const ended = timer.lap('→ result (1 activity)');
      return { acceptToActiveMs: ended - started, legs: timer.legs, workflowId: handle.workflowId };
    },
  };

  const shape: OnboardingSystem = {
    name: 'minimal shape',
    async onboard(index) {
      const timer = legTimer();
      const handle = await client.workflow.start<typeof minimalOnboardingWorkflow>('minimalOnboardingWorkflow', { taskQueue, workflowId: `shape-${env.runId}-${index}` });
      timer.lap('start workflow');
      await pollUntil('the shape to be invited', settings.pollMs, settings.stepTimeoutMs, async () => ((await handle.query(shapeInvitedQuery)) ? true : undefined));
      const acceptSent = timer.lap('→ invited by query');
      await handle.executeUpdate(shapeAcceptUpdate);
      timer.lap('accept (update)');
      await handle.result();
      const ended = timer.lap('→ result (2 activities)');
      return { acceptToActiveMs: ended - acceptSent, legs: timer.legs, workflowId: handle.workflowId };
    },
  };

  return { plain, shape, taskQueue, client };
}
