// What the consistency checker reports: per invariant, OK or the offending
// relationships (with what is wrong with each), and the dead letters. One shape
// for `npm run operator -- check --json`, its table, and the chaos suite.

import type { DeadLetter } from '../../infra/deadLetters.js';

export const invariantNames = ['readModelMatchesWorkflow', 'grantsFollowStatus', 'noStuckRelationship', 'outboxDelivered', 'auditComplete'] as const;
export type InvariantName = (typeof invariantNames)[number];

export const invariantDescriptions: Record<InvariantName, string> = {
  readModelMatchesWorkflow: 'the read model (status, endsAt, last transition) equals each workflow’s state',
  grantsFollowStatus: 'no unrevoked grant for an ended relationship; every active one holds a grant per role',
  noStuckRelationship: 'no live relationship without a running workflow, no running workflow without its row',
  outboxDelivered: 'no outbox row queued without a job in Redis, no job stuck waiting or active',
  auditComplete: 'every transition in the audit log, in order, on an intact chain',
};

export interface Violation {
  /** The relationship concerned; null for what belongs to none (a partner's own webhook, a chain). */
  relationshipId: string | null;
  detail: string;
}

export interface InvariantResult {
  name: InvariantName;
  description: string;
  ok: boolean;
  violations: Violation[];
}

/** A delivery given up for good (row status `failed`): not a broken invariant, but nobody got it. */

export interface ConsistencyReport {
  ok: boolean;
  checkedAt: string;
  relationshipsChecked: number;
  invariants: InvariantResult[];
  deadLetters: DeadLetter[];
}

export function buildReport(relationshipsChecked: number, found: Record<InvariantName, Violation[]>, deadLetters: DeadLetter[], now: Date): ConsistencyReport {
  const invariants = invariantNames.map((name) => ({ name, description: invariantDescriptions[name], ok: found[name].length === 0, violations: found[name] }));
  return { ok: invariants.every((i) => i.ok), checkedAt: now.toISOString(), relationshipsChecked, invariants, deadLetters };
}

/** The report as lines for a terminal: one per invariant, then what offends it, then the dead letters. */
export function reportLines(report: ConsistencyReport): string[] {
  const lines = [`checked ${report.relationshipsChecked} relationship(s) at ${report.checkedAt}`];
  for (const inv of report.invariants) {
    lines.push(`${inv.ok ? 'OK  ' : 'FAIL'}  ${inv.name}: ${inv.description}`);
    for (const v of inv.violations) lines.push(`        ${v.relationshipId ?? '-'}  ${v.detail}`);
  }
  lines.push(`dead letters: ${report.deadLetters.length}`);
  for (const d of report.deadLetters) lines.push(`        ${d.kind} ${d.jobId} (${d.what} to ${d.to}) ${d.relationshipId ?? '-'} at ${d.failedAt}: ${d.error ?? ''}`);
  lines.push(report.ok ? 'consistent' : 'INCONSISTENT');
  return lines;
}
