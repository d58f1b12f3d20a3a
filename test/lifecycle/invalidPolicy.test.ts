import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { YEAR } from '../../src/contract/policy.js';
import type { RelationshipWorkflowInput } from '../../src/contract/relationship.js';
import type { relationshipWorkflow } from '../../src/workflows/relationshipWorkflow.js';
import { payloadCodecOf } from '../../src/infra/payloadCodec.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  deliveredOffer,
  expectAuditPath,
  mailTo,
  mailsTo,
  onboardActiveRelationship,
  readModel,
  subjects,
  stateOf,
  waitForStatus,
} from '../support/relationshipDriver.js';
import type { TestSystem } from '../support/testSystem.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Issue 10, item 2, the workflow's side: a run whose input holds a policy no API
// would accept (an older API, a bug, someone with access to Temporal) ends the
// relationship as the system, with the reason, revoking every grant. On the code
// before this, `autoExtendBy: "300000y"` threw a RangeError at the renewal on every
// workflow task attempt: the relationship stayed active with access allowed and
// no Delete could finish.

const EventType = proto.temporal.api.enums.v1.EventType;
const ABSURD_EXTENSION_MS = 300_000 * YEAR;

/** The input the run was started with, as Temporal holds it (encrypted: decoded with the run's codec). */
async function startInput(handle: WorkflowHandle, config: TestSystem['config']): Promise<RelationshipWorkflowInput> {
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error('no start input in the history');
  const [decoded] = await payloadCodecOf(config).decode([payload]);
  if (!decoded) throw new Error('the start input did not decode');
  return defaultPayloadConverter.fromPayload<RelationshipWorkflowInput>(decoded);
}

async function eventTypes(handle: WorkflowHandle): Promise<number[]> {
  return ((await handle.fetchHistory()).events ?? []).map((e) => e.eventType ?? 0);
}

async function activitiesScheduled(handle: WorkflowHandle): Promise<string[]> {
  return ((await handle.fetchHistory()).events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

describe.concurrent('a workflow fed a policy outside its ranges', () => {
  const system = useTestSystem('bad-policy');

  /** Replaces the relationship's run with one started directly through Temporal, bypassing the API's schema. */
  async function startDirectly(handle: WorkflowHandle, input: RelationshipWorkflowInput) {
    await handle.terminate('test: replaced by a run started directly with an invalid policy');
    return system.temporal.workflow.start<typeof relationshipWorkflow>('relationshipWorkflow', {
      taskQueue: system.config.TEMPORAL_TASK_QUEUE,
      workflowId: handle.workflowId,
      args: [input],
    });
  }

  it('at the start: the invitation is withdrawn by the system with the reason, no email goes out, nothing is stuck', async () => {
    const { partner, to, id, handle } = await deliveredOffer(system, 'bad-start');
    const { offer: sent } = await startInput(handle, system.config);

    const run = await startDirectly(handle, { offer: { ...sent, policy: { ...sent.policy, autoExtendByMs: ABSURD_EXTENSION_MS } } });
    const final = await run.result();

    expect(final.status).toBe('withdrawn');
    const last = final.transitions.at(-1);
    expect(last?.actor).toEqual({ type: 'system' });
    expect(last?.reason).toMatch(/autoExtendByMs must be between 1 second and 2 years/);
    const rel = await waitForStatus(partner, id, 'withdrawn');
    expect(rel.transitions).toContainEqual(expect.objectContaining({ to: 'withdrawn', reason: last?.reason }));
    const trail = await expectAuditPath(system, id, ['invited', 'withdrawn']);
    expect(trail[1]).toMatchObject({ actor: 'system', reason: last?.reason });
    expect(await access(partner, to)).toEqual({ allowed: false });

    // No task failed, and the run sent no invitation of its own: the customer has only the first run's.
    expect(await eventTypes(run)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    expect(await activitiesScheduled(run)).not.toContain('issueInvitation');
    expect(mailsTo(system, to.adminEmail, subjects.invitation)).toHaveLength(1);
    await recordHistory(system.temporal, 'invalid-policy-withdrawn-at-start', run.workflowId, run.firstExecutionRunId);
  });

  it('a live relationship: terminated by the system, grants revoked, access no, both sides told', async () => {
    // Long enough that the first run neither renews nor ends while the test swaps it.
    const { partner, to, id, handle } = await onboardActiveRelationship(system, 'bad-live', { duration: '2m', autoExtend: true });
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });
    const { offer: sent } = await startInput(handle, system.config);
    const carried = await stateOf(handle);

    // What a renewal's continue-as-new carries, with an extension no date can hold.
    const run = await startDirectly(handle, { offer: { ...sent, policy: { ...sent.policy, autoExtendByMs: ABSURD_EXTENSION_MS } }, carried });
    const final = await run.result();

    expect(final.status).toBe('terminated');
    expect(final.transitions.at(-1)).toMatchObject({ from: 'active', to: 'terminated', actor: { type: 'system' } });
    expect(final.transitions.at(-1)?.reason).toMatch(/not valid \(autoExtendByMs/);
    expect(await access(partner, to)).toEqual({ allowed: false });
    expect((await readModel(partner, id)).status).toBe('terminated');
    const grants = await system.db.roleGrant.findMany({ where: { relationshipId: id } });
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.every((g) => g.revokedAt !== null)).toBe(true);
    const trail = await expectAuditPath(system, id, ['invited', 'accepted', 'active', 'terminated']);
    expect(trail[3]?.actor).toBe('system');
    await mailTo(system, partner.contactEmail, subjects.terminated);
    await mailTo(system, to.adminEmail, subjects.terminated);
    expect(await eventTypes(run)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    await recordHistory(system.temporal, 'invalid-policy-terminated-carried-run', run.workflowId, run.firstExecutionRunId);
  });
});
