import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { appendAuditEvent } from '../audit/auditLog.js';
import { orphanedInvitationReason, RECONCILED_REVOKE_ACTION, reconciledReason } from '../contract/endReasons.js';
import type { GrantReconcilePage, GrantReconcilePageInput, OrphanedInvitationsPage, OrphanedInvitationsPageInput } from '../contract/grantReconciler.js';
import { isEnded, type RelationshipStatus } from '../contract/statuses.js';
import type { Database } from '../infra/database.js';

// The grant reconciler's one activity: a page of relationships that still hold
// grants, each checked against its workflow. A workflow that no longer runs
// (terminated from the Web UI, failed, timed out, or gone from retention) left
// its grants behind with no code to revoke them; they are revoked here, the
// relationship recorded as ended and both audited, in one transaction.

/** How the relationship's workflow stands: its latest run's status, or `MISSING`. */
async function workflowStatus(temporal: Client, workflowId: string): Promise<string> {
  try {
    return (await temporal.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'MISSING';
    throw err;
  }
}

export function createGrantReconciliationActivities(db: Database, temporal: Client) {
  async function revokeLeftoverGrants(relationshipId: string, closedAs: string): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const revokedAt = new Date();
      const revoked = await tx.roleGrant.updateMany({ where: { relationshipId, revokedAt: null }, data: { revokedAt } });
      if (revoked.count === 0) return false;
      const rel = await tx.relationship.findUniqueOrThrow({ where: { id: relationshipId } });
      const reason = reconciledReason(closedAs);
      const ended = isEnded(rel.status as RelationshipStatus);
      if (!ended) {
        // After the workflow's last transition (it writes no more): the read model shows the end at once.
        await tx.relationship.update({
          where: { id: relationshipId },
          data: { status: 'terminated', statusReason: reason, endedAt: revokedAt, liveKey: null, version: { increment: 1 } },
        });
      }
      await appendAuditEvent(tx, {
        idempotencyKey: `reconcile-${relationshipId}-${revokedAt.toISOString()}`,
        relationshipId,
        actorType: 'system',
        action: RECONCILED_REVOKE_ACTION,
        fromStatus: ended ? null : rel.status,
        toStatus: ended ? null : 'terminated',
        reason,
        data: { workflowStatus: closedAs, grantsRevoked: revoked.count },
        createdAt: revokedAt,
      });
      return true;
    });
  }

  async function reconcileGrantsPage(input: GrantReconcilePageInput): Promise<GrantReconcilePage> {
    const holders = await db.roleGrant.findMany({
      where: {
        revokedAt: null,
        ...(input.partnerId ? { partnerId: input.partnerId } : {}),
        ...(input.after ? { relationshipId: { gt: input.after } } : {}),
      },
      distinct: ['relationshipId'],
      orderBy: { relationshipId: 'asc' },
      take: input.pageSize,
      select: { relationshipId: true, relationship: { select: { workflowId: true } } },
    });
    const revoked: string[] = [];
    for (const { relationshipId, relationship } of holders) {
      const closedAs = await workflowStatus(temporal, relationship.workflowId);
      if (closedAs === 'RUNNING') continue;
      if (await revokeLeftoverGrants(relationshipId, closedAs)) revoked.push(relationshipId);
    }
    const last = holders.at(-1)?.relationshipId;
    return { checked: holders.length, revoked, ...(holders.length === input.pageSize && last ? { next: last } : {}) };
  }

  /** Withdraws one invitation whose workflow is not running, unless something moved it meanwhile. */
  async function withdrawOrphanedInvitation(relationshipId: string, closedAs: string): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const now = new Date();
      const reason = orphanedInvitationReason(closedAs);
      const moved = await tx.relationship.updateMany({
        where: { id: relationshipId, status: 'invited' },
        data: { status: 'withdrawn', statusReason: reason, endedAt: now, liveKey: null, version: { increment: 1 } },
      });
      if (moved.count === 0) return false;
      await tx.invitation.updateMany({ where: { relationshipId, usedAt: null, revokedAt: null }, data: { revokedAt: now } });
      await tx.subscription.updateMany({ where: { relationshipId, status: 'offered' }, data: { status: 'cancelled', failureReason: reason } });
      await appendAuditEvent(tx, {
        idempotencyKey: `reconcile-invitation-${relationshipId}`,
        relationshipId,
        actorType: 'system',
        action: 'relationship.withdrawn',
        fromStatus: 'invited',
        toStatus: 'withdrawn',
        reason,
        data: { workflowStatus: closedAs },
        createdAt: now,
      });
      return true;
    });
  }

  async function withdrawOrphanedInvitationsPage(input: OrphanedInvitationsPageInput): Promise<OrphanedInvitationsPage> {
    const invited = await db.relationship.findMany({
      where: {
        status: 'invited',
        createdAt: { lt: new Date(input.createdBefore) },
        ...(input.partnerId ? { partnerId: input.partnerId } : {}),
        ...(input.after ? { id: { gt: input.after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: input.pageSize,
      select: { id: true, workflowId: true },
    });
    const withdrawn: string[] = [];
    for (const { id, workflowId } of invited) {
      const closedAs = await workflowStatus(temporal, workflowId);
      if (closedAs === 'RUNNING') continue;
      if (await withdrawOrphanedInvitation(id, closedAs)) withdrawn.push(id);
    }
    const last = invited.at(-1)?.id;
    return { checked: invited.length, withdrawn, ...(invited.length === input.pageSize && last ? { next: last } : {}) };
  }

  return { reconcileGrantsPage, withdrawOrphanedInvitationsPage };
}
