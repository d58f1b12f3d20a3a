import type { Job, Queue } from 'bullmq';
import type { Database } from '../../infra/database.js';
import { emailDeadLetter, webhookDeadLetter, type DeadLetter } from '../../infra/deadLetters.js';
import type { Violation } from './consistencyReport.js';

// Invariant (d): what the outboxes (email_messages, webhook_deliveries) hold as
// still to be delivered is really on its way: a job in Redis that is not stuck.
// A row queued with no job was lost between Postgres and Redis; a job waiting or
// active for long has nobody working on it. Deliveries given up for good are
// listed as dead letters.

export interface OutboxScope {
  partnerIds: string[] | undefined;
  outboxAgeMs: number;
  jobAgeMs: number;
  now: Date;
}

interface Pending {
  kind: 'mail' | 'webhook';
  jobId: string;
  relationshipId: string | null;
  what: string;
}

const STUCK_STATES = new Set(['active', 'waiting', 'prioritized', 'waiting-children']);

/** Why a pending row is not on its way, or null when it is. */
async function pendingProblem(queue: Queue, row: Pending, scope: OutboxScope): Promise<string | null> {
  const job = (await queue.getJob(row.jobId)) as Job | undefined;
  if (!job) return `${row.kind} ${row.jobId} (${row.what}) is queued in Postgres but has no job in Redis`;
  const state = await job.getState();
  if (state === 'completed' || state === 'failed') return `${row.kind} ${row.jobId} (${row.what}) is still queued in Postgres but its job is ${state}`;
  const since = job.processedOn ?? job.timestamp;
  if (STUCK_STATES.has(state) && scope.now.getTime() - since > scope.jobAgeMs) {
    return `${row.kind} ${row.jobId} (${row.what}) job ${state} since ${new Date(since).toISOString()}`;
  }
  return null;
}

export async function outboxFindings(
  parts: { db: Database; mailQueue: Queue; webhookQueue: Queue },
  scope: OutboxScope,
): Promise<{ violations: Violation[]; deadLetters: DeadLetter[] }> {
  const { db } = parts;
  const before = new Date(scope.now.getTime() - scope.outboxAgeMs);
  const scopedIds = scope.partnerIds
    ? (await db.relationship.findMany({ where: { partnerId: { in: scope.partnerIds } }, select: { id: true } })).map((r) => r.id)
    : undefined;
  const mailScope = scopedIds ? { relationshipId: { in: scopedIds } } : {};
  const hookScope = scope.partnerIds ? { partnerId: { in: scope.partnerIds } } : {};

  const violations: Violation[] = [];
  const mails = await db.emailMessage.findMany({ where: { ...mailScope, status: 'queued', createdAt: { lt: before } }, select: { jobId: true, relationshipId: true, template: true } });
  for (const m of mails) {
    const problem = await pendingProblem(parts.mailQueue, { kind: 'mail', jobId: m.jobId, relationshipId: m.relationshipId, what: m.template }, scope);
    if (problem) violations.push({ relationshipId: m.relationshipId, detail: problem });
  }
  const hooks = await db.webhookDelivery.findMany({
    where: { ...hookScope, status: { in: ['queued', 'retrying'] }, createdAt: { lt: before } },
    select: { jobId: true, relationshipId: true, event: true },
  });
  for (const h of hooks) {
    const problem = await pendingProblem(parts.webhookQueue, { kind: 'webhook', jobId: h.jobId, relationshipId: h.relationshipId, what: h.event }, scope);
    if (problem) violations.push({ relationshipId: h.relationshipId, detail: problem });
  }

  // Jobs nobody works on, whatever their rows say (a worker that is down or wedged).
  const reported = new Set([...mails.map((m) => m.jobId), ...hooks.map((h) => h.jobId)]);
  for (const [kind, queue] of [['mail', parts.mailQueue], ['webhook', parts.webhookQueue]] as const) {
    const jobs = (await queue.getJobs(['active', 'waiting', 'prioritized'])) as (Job | undefined)[];
    for (const job of jobs) {
      if (!job?.id || reported.has(job.id)) continue;
      const data = job.data as { relationshipId?: string; partnerId?: string };
      const inScope = !scopedIds || (data.relationshipId !== undefined && scopedIds.includes(data.relationshipId)) || (data.partnerId !== undefined && scope.partnerIds?.includes(data.partnerId));
      const since = job.processedOn ?? job.timestamp;
      if (inScope && scope.now.getTime() - since > scope.jobAgeMs) {
        violations.push({ relationshipId: data.relationshipId ?? null, detail: `${kind} job ${job.id} (${job.name}) waiting or active since ${new Date(since).toISOString()}` });
      }
    }
  }

  const deadLetters: DeadLetter[] = [
    ...(await db.emailMessage.findMany({ where: { ...mailScope, status: 'failed' }, orderBy: { updatedAt: 'asc' } })).map(emailDeadLetter),
    ...(await db.webhookDelivery.findMany({ where: { ...hookScope, status: 'failed' }, orderBy: { updatedAt: 'asc' } })).map(webhookDeadLetter),
  ];
  return { violations, deadLetters };
}
