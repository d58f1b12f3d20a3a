import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { percentile } from './stats.js';

// Where a workflow's time went, read from Temporal's own event history after
// the run (not on the measured path): workflow tasks (waiting in the queue,
// then running on the worker), each activity type (queue wait, execution), the
// accept Update, and the stretch between the accept and the `active` status,
// which is what issue 13 wants down to two Update round trips.

const T = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const ms = (e: HistoryEvent | undefined) => Number(e?.eventTime?.seconds ?? 0) * 1000 + (e?.eventTime?.nanos ?? 0) / 1e6;
const id = (value: unknown) => Number(value ?? 0);

/** One workflow's history, boiled down. */
interface WorkflowFigures {
  workflowTasks: { queueMs: number; runMs: number }[];
  activities: { type: string; queueMs: number; runMs: number; afterAccept: boolean }[];
  /** Update accepted → update completed, inside the workflow. */
  updateMs?: number;
  /** Update accepted → the workflow task that set RelationshipStatus=active (full and bare sides) or completed the workflow (shape). */
  acceptToActiveMs?: number;
  /** Between the accept and the workflow setting active: tasks and activities in sequence. */
  tasksToActive?: number;
  activitiesToActive?: string[];
}

function figuresOf(events: HistoryEvent[]): WorkflowFigures {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) byId.set(id(e.eventId), e);
  const f: WorkflowFigures = { workflowTasks: [], activities: [] };
  let acceptedAt: HistoryEvent | undefined;
  let lastTaskCompleted: HistoryEvent | undefined;
  let tasksSinceAccept = 0;
  const activitiesSinceAccept: string[] = [];
  for (const e of events) {
    switch (e.eventType) {
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const started = byId.get(id(e.workflowTaskCompletedEventAttributes?.startedEventId));
        const scheduled = byId.get(id(e.workflowTaskCompletedEventAttributes?.scheduledEventId));
        f.workflowTasks.push({ queueMs: ms(started) - ms(scheduled), runMs: ms(e) - ms(started) });
        lastTaskCompleted = e;
        if (acceptedAt && f.acceptToActiveMs === undefined) tasksSinceAccept += 1;
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case T.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
        const scheduled = byId.get(id(attrs?.scheduledEventId));
        const started = byId.get(id(attrs?.startedEventId));
        const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        const afterAccept = acceptedAt !== undefined && ms(scheduled) >= ms(acceptedAt);
        f.activities.push({ type, queueMs: ms(started) - ms(scheduled), runMs: ms(e) - ms(started), afterAccept });
        if (afterAccept && f.acceptToActiveMs === undefined) activitiesSinceAccept.push(type);
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        acceptedAt ??= e;
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        if (acceptedAt && f.updateMs === undefined) f.updateMs = ms(e) - ms(acceptedAt);
        break;
      case T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const payload = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.RelationshipStatus;
        const status = payload ? String(defaultPayloadConverter.fromPayload(payload)) : undefined;
        if (status === 'active' && acceptedAt && f.acceptToActiveMs === undefined) {
          // Upserts are commands of the task that just completed.
          f.acceptToActiveMs = ms(lastTaskCompleted) - ms(acceptedAt);
          f.tasksToActive = tasksSinceAccept;
          f.activitiesToActive = [...activitiesSinceAccept];
        }
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        // A workflow without a status (the minimal shape) is "active" when it has done its work.
        if (acceptedAt && f.acceptToActiveMs === undefined) {
          f.acceptToActiveMs = ms(lastTaskCompleted) - ms(acceptedAt);
          f.tasksToActive = tasksSinceAccept;
          f.activitiesToActive = [...activitiesSinceAccept];
        }
        break;
      default:
        break;
    }
  }
  return f;
}

export interface HistoryProfile {
  workflows: number;
  workflowTasksPer: number;
  taskQueueP50Ms: number;
  taskRunP50Ms: number;
  /** Per activity type: per workflow, queue wait and execution p50 / p95. */
  activities: { type: string; perWorkflow: number; queueP50Ms: number; runP50Ms: number; runP95Ms: number }[];
  updateInWorkflowP50Ms: number;
  acceptToActiveInWorkflowP50Ms: number;
  tasksToActiveP50: number;
  /** The activities between the accept and active, in order, of the first sampled workflow. */
  pathToActive: string[];
}

/** Fetches up to `sample` histories (spread over `workflowIds`) and sums them up. */
export async function profileHistories(client: Client, workflowIds: string[], sample: number): Promise<HistoryProfile | undefined> {
  const step = Math.max(1, Math.floor(workflowIds.length / sample));
  const chosen = workflowIds.filter((_, i) => i % step === 0).slice(0, sample);
  if (chosen.length === 0) return undefined;
  const all: WorkflowFigures[] = [];
  for (const workflowId of chosen) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    all.push(figuresOf(history.events ?? []));
  }
  const tasks = all.flatMap((f) => f.workflowTasks);
  const types = [...new Set(all.flatMap((f) => f.activities.map((a) => a.type)))];
  const defined = (values: (number | undefined)[]) => values.filter((v): v is number => v !== undefined);
  return {
    workflows: all.length,
    workflowTasksPer: tasks.length / all.length,
    taskQueueP50Ms: percentile(tasks.map((t) => t.queueMs), 50),
    taskRunP50Ms: percentile(tasks.map((t) => t.runMs), 50),
    activities: types
      .map((type) => {
        const runs = all.flatMap((f) => f.activities.filter((a) => a.type === type));
        return {
          type,
          perWorkflow: runs.length / all.length,
          queueP50Ms: percentile(runs.map((a) => a.queueMs), 50),
          runP50Ms: percentile(runs.map((a) => a.runMs), 50),
          runP95Ms: percentile(runs.map((a) => a.runMs), 95),
        };
      })
      .sort((a, b) => b.perWorkflow * b.runP50Ms - a.perWorkflow * a.runP50Ms),
    updateInWorkflowP50Ms: percentile(defined(all.map((f) => f.updateMs)), 50),
    acceptToActiveInWorkflowP50Ms: percentile(defined(all.map((f) => f.acceptToActiveMs)), 50),
    tasksToActiveP50: percentile(defined(all.map((f) => f.tasksToActive)), 50),
    pathToActive: all.find((f) => f.activitiesToActive)?.activitiesToActive ?? [],
  };
}
