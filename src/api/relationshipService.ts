import { randomUUID } from 'node:crypto';
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import {
  acceptUpdate,
  declineUpdate,
  removeUpdate,
  resendUpdate,
  terminateUpdate,
  withdrawUpdate,
  type ActorInput,
} from '../contract/messages.js';
import { defaultPolicy, type RelationshipPolicy } from '../contract/policy.js';
import { relationshipWorkflowId, type Actor, type RelationshipOffer, type RelationshipState } from '../contract/relationship.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../contract/searchAttributes.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import type { Principal } from './auth.js';
import { AppError } from './errors.js';
import { relationshipFromRow, relationshipFromState, relationshipInclude } from './relationshipView.js';
import type { CreateRelationshipRequest } from './schemas.js';
import { toStepError } from './temporalErrors.js';

export interface RelationshipServiceDeps {
  db: Database;
  temporal: Client;
  redis: Redis;
  log: Logger;
  taskQueue: string;
  namespace: string;
  temporalUiUrl: string;
}

type PartnerPrincipal = Extract<Principal, { kind: 'partner' }>;
export type PartnerStep = 'resend' | 'withdraw' | 'terminate';

const partnerSteps = { resend: resendUpdate, withdraw: withdrawUpdate, terminate: terminateUpdate } as const;
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export function createRelationshipService(deps: RelationshipServiceDeps) {
  const { db, temporal, log } = deps;
  const fromRow = (row: Parameters<typeof relationshipFromRow>[0]) => relationshipFromRow(row, deps.temporalUiUrl, deps.namespace);
  const fromState = (state: RelationshipState, workflowId: string) =>
    relationshipFromState(state, workflowId, deps.temporalUiUrl, deps.namespace);

  async function findVisible(principal: Principal, id: string) {
    const row = await db.relationship.findUnique({ where: { id }, include: relationshipInclude });
    // Another partner's relationship is reported as missing, not forbidden: its existence is not ours to reveal.
    if (!row || (principal.kind === 'partner' && row.partnerId !== principal.partnerId)) {
      throw new AppError('notFound', `No relationship ${id}.`);
    }
    return row;
  }

  function policyFrom(body: CreateRelationshipRequest): RelationshipPolicy {
    return {
      ...defaultPolicy,
      ...(body.invitationTtl ? { invitationTtlMs: body.invitationTtl } : {}),
      ...(body.duration ? { durationMs: body.duration } : {}),
      ...(body.policy?.reminderBeforeExpiry ? { reminderBeforeExpiryMs: body.policy.reminderBeforeExpiry } : {}),
      ...(body.policy?.warningsBeforeEnd ? { warningsBeforeEndMs: body.policy.warningsBeforeEnd } : {}),
      ...(body.policy?.autoExtendBy ? { autoExtendByMs: body.policy.autoExtendBy } : {}),
    };
  }

  async function createOffer(partner: PartnerPrincipal, body: CreateRelationshipRequest, idempotencyKey?: string) {
    const idemKey = idempotencyKey ? `idem:offer:${partner.partnerId}:${idempotencyKey}` : undefined;
    const id = randomUUID();
    if (idemKey) {
      const claimed = await deps.redis.set(idemKey, id, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
      if (claimed !== 'OK') {
        const existingId = await deps.redis.get(idemKey);
        if (existingId) return { created: false, relationship: fromRow(await findVisible(partner, existingId)) };
      }
    }
    const roles = [...body.roles].sort();
    const liveKey = `${partner.partnerId}|${body.customer.tenantDomain}|${roles.join(',')}`;
    const policy = policyFrom(body);
    const workflowId = relationshipWorkflowId(id);

    const tenant = await db.tenant.upsert({
      where: { domain: body.customer.tenantDomain },
      create: { domain: body.customer.tenantDomain, adminEmail: body.customer.adminEmail, name: body.customer.name ?? null },
      update: {},
    });
    if (tenant.adminEmail.toLowerCase() !== body.customer.adminEmail.toLowerCase()) {
      throw new AppError('conflict', 'adminEmail does not match the admin registered for this tenant.', { reason: 'tenantAdminMismatch' });
    }
    try {
      await db.relationship.create({
        data: {
          id,
          workflowId,
          partnerId: partner.partnerId,
          tenantDomain: tenant.domain,
          status: 'invited',
          roles,
          terms: body.terms ?? null,
          autoExtend: body.autoExtend,
          policy: { ...policy },
          trialOffer: body.trial ? { ...body.trial } : Prisma.DbNull,
          liveKey,
          invitationExpiresAt: new Date(Date.now() + policy.invitationTtlMs),
        },
      });
    } catch (err) {
      if (idemKey) await deps.redis.del(idemKey);
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        const existing = await db.relationship.findUnique({ where: { liveKey } });
        throw new AppError('conflict', 'A live offer for this tenant and these roles already exists.', {
          reason: 'duplicateOffer',
          relationshipId: existing?.id,
        });
      }
      throw err;
    }

    const offer: RelationshipOffer = {
      relationshipId: id,
      partnerId: partner.partnerId,
      partnerName: partner.partnerName,
      tenantDomain: tenant.domain,
      customerAdminEmail: tenant.adminEmail,
      ...(tenant.name ? { customerName: tenant.name } : {}),
      roles,
      ...(body.terms ? { terms: body.terms } : {}),
      autoExtend: body.autoExtend,
      ...(body.trial ? { trial: body.trial } : {}),
      policy,
    };
    try {
      await temporal.workflow.start('relationshipWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ offer }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: RelationshipStatusKey, value: 'invited' },
          { key: PartnerIdKey, value: partner.partnerId },
          { key: TenantDomainKey, value: tenant.domain },
        ],
        staticSummary: `${partner.partnerName} → ${tenant.domain}`,
      });
    } catch (err) {
      // Without a workflow the row would be an offer nobody can act on.
      await db.relationship.delete({ where: { id } });
      if (idemKey) await deps.redis.del(idemKey);
      log.error({ event: 'offer.start_failed', relationshipId: id, workflowId, err }, 'could not start workflow');
      throw new AppError('unavailable', 'Could not start the relationship workflow; try again.');
    }
    log.info({ event: 'offer.created', relationshipId: id, workflowId, partnerId: partner.partnerId, tenant: tenant.domain }, 'offer created');
    return { created: true, relationship: fromRow(await findVisible(partner, id)) };
  }

  async function list(principal: Principal, filters: { status?: string; tenant?: string }) {
    const rows = await db.relationship.findMany({
      where: {
        ...(principal.kind === 'partner' ? { partnerId: principal.partnerId } : {}),
        ...(filters.status ? { status: filters.status } : {}),
        ...(filters.tenant ? { tenantDomain: filters.tenant } : {}),
      },
      include: relationshipInclude,
      orderBy: { createdAt: 'desc' },
      take: 500,
    });
    return rows.map(fromRow);
  }

  async function get(principal: Principal, id: string) {
    return fromRow(await findVisible(principal, id));
  }

  async function runPartnerStep(partner: PartnerPrincipal, id: string, step: PartnerStep, reason?: string) {
    const row = await findVisible(partner, id);
    const input: ActorInput = { actor: { type: 'partner', id: partner.partnerId }, ...(reason ? { reason } : {}) };
    const state = await temporal.workflow
      .getHandle(row.workflowId)
      .executeUpdate(partnerSteps[step], { args: [input] })
      .catch((err: unknown) => {
        throw toStepError(err);
      });
    log.info({ event: `relationship.${step}`, relationshipId: id, workflowId: row.workflowId, status: state.status }, `partner ${step}`);
    return fromState(state, row.workflowId);
  }

  async function answerInvitation(
    workflowId: string,
    invitationId: string,
    actor: Actor,
    answer: { accept: true; startTrial: boolean } | { accept: false; reason?: string },
  ) {
    const handle = temporal.workflow.getHandle(workflowId);
    const update = answer.accept
      ? handle.executeUpdate(acceptUpdate, { args: [{ invitationId, actor, startTrial: answer.startTrial }] })
      : handle.executeUpdate(declineUpdate, { args: [{ invitationId, actor, ...(answer.reason ? { reason: answer.reason } : {}) }] });
    return update;
  }

  async function removeByCustomer(tenantDomain: string, email: string, id: string) {
    const row = await db.relationship.findFirst({ where: { id, tenantDomain } });
    if (!row) throw new AppError('notFound', 'No such partner relationship for your organisation.');
    const state = await temporal.workflow
      .getHandle(row.workflowId)
      .executeUpdate(removeUpdate, { args: [{ actor: { type: 'customer', id: email } }] })
      .catch((err: unknown) => {
        throw toStepError(err);
      });
    log.info({ event: 'relationship.removed', relationshipId: id, workflowId: row.workflowId, tenant: tenantDomain }, 'customer removed partner');
    return state;
  }

  async function checkAccess(partnerId: string, tenantDomain: string, role: string) {
    const grant = await db.roleGrant.findFirst({ where: { partnerId, tenantDomain, role, revokedAt: null } });
    return grant ? { allowed: true, relationshipId: grant.relationshipId } : { allowed: false };
  }

  return { createOffer, list, get, runPartnerStep, answerInvitation, removeByCustomer, checkAccess };
}

export type RelationshipService = ReturnType<typeof createRelationshipService>;
