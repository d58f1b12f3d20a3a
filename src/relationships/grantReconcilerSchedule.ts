import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { GRANT_RECONCILER_WORKFLOW, grantReconcilerScheduleId, type GrantReconcilerInput } from '../contract/grantReconciler.js';

export interface GrantReconcilerScheduleOptions {
  taskQueue: string;
  intervalSeconds: number;
  pageSize: number;
}

/**
 * The Temporal Schedule that runs the grant reconciler every `intervalSeconds`, created
 * if missing and otherwise brought to these options, so every worker start (npm start,
 * a deploy) may call it. A pass still running when the next is due makes that one skip.
 */
export async function ensureGrantReconcilerSchedule(temporal: Client, options: GrantReconcilerScheduleOptions): Promise<'created' | 'updated'> {
  const scheduleId = grantReconcilerScheduleId(options.taskQueue);
  const spec = { intervals: [{ every: options.intervalSeconds * 1000 }] };
  const args: [GrantReconcilerInput] = [{ pageSize: options.pageSize }];
  const action = { type: 'startWorkflow' as const, workflowType: GRANT_RECONCILER_WORKFLOW, taskQueue: options.taskQueue, workflowId: scheduleId, args };
  try {
    await temporal.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await temporal.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}
