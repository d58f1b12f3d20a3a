import { createChainVerifier, tenantChain } from '../../audit/auditChain.js';
import { createAuditExport } from '../../audit/auditExport.js';
import { RECONCILED_REVOKE_ACTION } from '../../contract/endReasons.js';
import type { RelationshipState } from '../../contract/relationship.js';
import type { Database } from '../../infra/database.js';
import type { Violation } from './consistencyReport.js';

// Invariant (e): the audit log holds every transition of every relationship, in
// the order they happened, and the chains they are links of are intact (the same
// verifier as `npm run operator -- audit verify`).

export interface AuditSubject {
  id: string;
  workflowId: string;
  /** The read model's status, and the number of transitions written to it. */
  status: string;
  version: number;
  /** The workflow's state when it could be read (running or completed). */
  state: RelationshipState | undefined;
}

const CONCURRENCY = 8;

async function subjectViolations(db: Database, subject: AuditSubject): Promise<string[]> {
  const prefix = `${subject.workflowId}-transition-`;
  const events = await db.auditEvent.findMany({
    where: { relationshipId: subject.id, OR: [{ idempotencyKey: { startsWith: prefix } }, { action: RECONCILED_REVOKE_ACTION, toStatus: { not: null } }] },
    orderBy: { seq: 'asc' },
    select: { idempotencyKey: true, fromStatus: true, toStatus: true, action: true },
  });
  const problems: string[] = [];
  let previousTo: string | null = null;
  let expectedSeq = 1;
  for (const e of events) {
    if (e.action !== RECONCILED_REVOKE_ACTION) {
      const seq = Number(e.idempotencyKey.slice(prefix.length));
      if (seq !== expectedSeq) {
        problems.push(seq > expectedSeq ? `transition ${expectedSeq} is missing from the audit log` : `transition ${seq} recorded out of order`);
        break;
      }
      expectedSeq++;
    }
    if (e.fromStatus !== previousTo) {
      problems.push(`audit event ${e.idempotencyKey} goes from ${e.fromStatus ?? 'nothing'} but the one before ended at ${previousTo ?? 'nothing'}`);
      break;
    }
    previousTo = e.toStatus;
  }
  if (problems.length > 0) return problems;
  const recorded = expectedSeq - 1;
  const { state } = subject;
  if (state) {
    // Every transition the workflow wrote to the read model is audited in the same transaction.
    if (recorded < state.writtenSeq) problems.push(`audit log has ${recorded} transition(s), the workflow wrote ${state.writtenSeq}`);
    const mismatch = state.transitions.slice(0, recorded).find((t, i) => events.filter((e) => e.action !== RECONCILED_REVOKE_ACTION)[i]?.toStatus !== t.to);
    if (mismatch) problems.push(`audit log differs from the workflow at transition ${mismatch.seq} (to ${mismatch.to})`);
  } else if (events.length !== subject.version) {
    // Each write to the read model (a transition, or the reconciler's end) is audited in its transaction.
    problems.push(`audit log has ${events.length} transition(s), the read model ${subject.version}`);
  } else if (events.length > 0 && previousTo !== subject.status) {
    problems.push(`audit log ends at ${previousTo ?? 'nothing'}, the read model is ${subject.status}`);
  }
  return problems;
}

/** Violations of (e) for these relationships and the chains of these tenants. */
export async function auditViolations(db: Database, subjects: AuditSubject[], tenants: string[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, subjects.length) }, async () => {
      while (next < subjects.length) {
        const subject = subjects[next++] as AuditSubject;
        for (const detail of await subjectViolations(db, subject)) violations.push({ relationshipId: subject.id, detail });
      }
    }),
  );

  const exporter = createAuditExport(db);
  for (const tenant of tenants) {
    const chain = tenantChain(tenant);
    const verifier = createChainVerifier();
    for await (const line of exporter.lines(chain, 'operator')) if (!verifier.push(line)) break;
    const result = verifier.result();
    if (result.ok) continue;
    const { message, id } = result.broken;
    const at = id ? await db.auditEvent.findUnique({ where: { id: BigInt(id) }, select: { relationshipId: true } }) : null;
    // A break names the event after it; without one (the last events gone) it concerns the tenant's relationships.
    const concerned = at?.relationshipId
      ? [at.relationshipId]
      : (await db.relationship.findMany({ where: { tenantDomain: tenant, id: { in: subjects.map((s) => s.id) } }, select: { id: true } })).map((r) => r.id);
    for (const relationshipId of concerned.length > 0 ? concerned : [null]) violations.push({ relationshipId, detail: `audit chain ${chain} broken: ${message}` });
  }
  return violations;
}
