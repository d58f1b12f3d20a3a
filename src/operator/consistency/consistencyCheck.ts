import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Queue } from 'bullmq';
import { getStateQuery } from '../../contract/messages.js';
import { relationshipWorkflowId, type RelationshipState } from '../../contract/relationship.js';
import { isEnded, type RelationshipStatus } from '../../contract/statuses.js';
import type { Database } from '../../infra/database.js';
import { auditViolations, type AuditSubject } from './auditCheck.js';
import { buildReport, type ConsistencyReport, type InvariantName, type Violation } from './consistencyReport.js';
import { outboxFindings } from './outboxCheck.js';

// The invariants a deployment must keep whatever failed on the way (docs/reliability.md),
// checked from the outside: the read model and the outboxes in Postgres, the jobs in
// Redis, and each relationship's workflow in Temporal. Read-only: it reports and never
// repairs. The operator runs it as `npm run operator -- check`; the chaos suite runs
// this same code after its faults.

export interface ConsistencyParts {
  db: Database;
  temporal: Client;
  mailQueue: Queue;
  webhookQueue: Queue;
  /** The deployment's task queue: running relationship workflows are looked for there. */
  taskQueue: string;
}

export interface ConsistencyOptions {
  /** Only these partners' relationships and deliveries (a test's, in a shared database); default: everything. */
  partnerIds?: string[];
  /** An outbox row queued this long without a job in Redis is lost (default 5 minutes). */
  outboxAgeMs?: number;
  /** A job waiting or active this long is stuck (default 15 minutes). */
  jobAgeMs?: number;
  /** A relationship found inconsistent is read again once after this long, so a write in flight is not reported (default 2 s). */
  settleMs?: number;
  now?: () => Date;
}

type Row = {
  id: string;
  workflowId: string;
  tenantDomain: string;
  status: string;
  roles: string[];
  endsAt: Date | null;
  version: number;
  grants: { role: string; revokedAt: Date | null }[];
};

/** How a relationship's workflow stands, and its state when that can be read. */
type WorkflowView = { status: string; state?: RelationshipState; error?: string };

const PAGE = 200;
const CONCURRENCY = 8;

async function inPool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Its latest run's status; for a running one its state by query, for a completed one its result. */
async function viewWorkflow(temporal: Client, workflowId: string): Promise<WorkflowView> {
  const handle = temporal.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { status: 'MISSING' };
    throw err;
  }
  try {
    if (status === 'RUNNING') return { status, state: await handle.query(getStateQuery) };
    if (status === 'COMPLETED') return { status, state: (await handle.result()) as RelationshipState };
  } catch (err) {
    return { status, error: errorText(err) };
  }
  return { status };
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** What is wrong with one relationship, by invariant (the audit log is checked apart). */
function relationshipViolations(row: Row, view: WorkflowView): Partial<Record<InvariantName, string[]>> {
  const found: Partial<Record<InvariantName, string[]>> = {};
  const add = (name: InvariantName, detail: string) => (found[name] ??= []).push(detail);
  const ended = isEnded(row.status as RelationshipStatus);

  // (a) the read model equals the workflow's state.
  if (view.error) add('readModelMatchesWorkflow', `workflow ${view.status}: its state cannot be read (${view.error})`);
  const state = view.state;
  if (state) {
    const lastSeq = state.transitions.at(-1)?.seq ?? 0;
    if (state.status !== row.status) add('readModelMatchesWorkflow', `status: read model ${row.status}, workflow ${state.status}`);
    if (row.version !== lastSeq) add('readModelMatchesWorkflow', `last transition: read model ${row.version}, workflow ${lastSeq}`);
    if (iso(state.endsAt) !== iso(row.endsAt)) add('readModelMatchesWorkflow', `endsAt: read model ${iso(row.endsAt) ?? 'none'}, workflow ${iso(state.endsAt) ?? 'none'}`);
  }

  // (b) grants follow the status.
  const live = row.grants.filter((g) => g.revokedAt === null).map((g) => g.role);
  if (ended && live.length > 0) add('grantsFollowStatus', `${row.status} but grants not revoked: ${live.join(', ')}`);
  if (row.status === 'active') {
    const missing = row.roles.filter((role) => !live.includes(role));
    if (missing.length > 0) add('grantsFollowStatus', `active but no grant for: ${missing.join(', ')}`);
  }

  // (c) a live relationship has a running workflow.
  if (!ended && view.status !== 'RUNNING') add('noStuckRelationship', `${row.status} but its workflow is ${view.status}`);
  return found;
}

/** Checks every invariant over the deployment (or the partners in `options.partnerIds`). */
export async function checkConsistency(parts: ConsistencyParts, options: ConsistencyOptions = {}): Promise<ConsistencyReport> {
  const { db, temporal } = parts;
  const now = options.now ?? (() => new Date());
  const settleMs = options.settleMs ?? 2_000;
  const scope = options.partnerIds ? { partnerId: { in: options.partnerIds } } : {};
  const found: Record<InvariantName, Violation[]> = {
    readModelMatchesWorkflow: [],
    grantsFollowStatus: [],
    noStuckRelationship: [],
    outboxDelivered: [],
    auditComplete: [],
  };
  const select = { id: true, workflowId: true, tenantDomain: true, status: true, roles: true, endsAt: true, version: true, grants: { select: { role: true, revokedAt: true } } };
  const readRow = (id: string) => db.relationship.findUnique({ where: { id }, select });

  let checked = 0;
  const tenants = new Set<string>();
  const audited: AuditSubject[] = [];
  let after: string | undefined;
  for (;;) {
    const rows: Row[] = await db.relationship.findMany({ where: { ...scope, ...(after ? { id: { gt: after } } : {}) }, orderBy: { id: 'asc' }, take: PAGE, select });
    if (rows.length === 0) break;
    after = rows.at(-1)?.id;
    checked += rows.length;
    await inPool(rows, async (first) => {
      tenants.add(first.tenantDomain);
      let row: Row | null = first;
      let view = await viewWorkflow(temporal, row.workflowId);
      let wrong = relationshipViolations(row, view);
      if (Object.keys(wrong).length > 0 && settleMs > 0) {
        // A transition may be between the workflow and the database right now: look again once.
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        row = await readRow(first.id);
        if (!row) return;
        view = await viewWorkflow(temporal, row.workflowId);
        wrong = relationshipViolations(row, view);
      }
      audited.push({ id: row.id, workflowId: row.workflowId, status: row.status, version: row.version, state: view.state });
      for (const [name, details] of Object.entries(wrong) as [InvariantName, string[]][]) {
        for (const detail of details) found[name].push({ relationshipId: row.id, detail });
      }
    });
    if (rows.length < PAGE) break;
  }

  // (c) the other way round: a workflow running for a relationship that has no row.
  const running = temporal.workflow.list({ query: `WorkflowType = 'relationshipWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${parts.taskQueue}'` });
  const runningIds: string[] = [];
  for await (const wf of running) runningIds.push(wf.workflowId);
  const prefix = relationshipWorkflowId('');
  const claimed = runningIds.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
  for (let i = 0; i < claimed.length; i += PAGE) {
    const ids = claimed.slice(i, i + PAGE).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
    const present = new Set((await db.relationship.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((r) => r.id));
    for (const id of ids) {
      if (!present.has(id)) found.noStuckRelationship.push({ relationshipId: id, detail: 'its workflow is running but the relationship row is missing' });
    }
  }

  found.auditComplete.push(...(await auditViolations(db, audited, [...tenants])));
  const outbox = await outboxFindings(parts, { partnerIds: options.partnerIds, outboxAgeMs: options.outboxAgeMs ?? 300_000, jobAgeMs: options.jobAgeMs ?? 900_000, now: now() });
  found.outboxDelivered.push(...outbox.violations);
  return buildReport(checked, found, outbox.deadLetters, now());
}
