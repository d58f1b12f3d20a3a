import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import {
  acceptUpdate,
  completeSubscriptionUpdate,
  completeTrialUpdate,
  declineUpdate,
  removeUpdate,
  resendUpdate,
  terminateUpdate,
  withdrawUpdate,
  type ActorInput,
} from '../contract/messages.js';
import { defaultPolicy, type OperatorLimits, type RelationshipPolicy } from '../contract/policy.js';
import { provisioners, purchaseRanges } from '../contract/purchase.js';
import { relationshipWorkflowId, type Actor, type OfferProvisioning, type RelationshipOffer } from '../contract/relationship.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../contract/searchAttributes.js';
import type { Database } from '../infra/database.js';
import { hourOf } from '../infra/hourlyQuota.js';
import type { Logger } from '../infra/logger.js';
import type { PartnerOrOperator } from '../http/auth.js';
import { AppError } from '../http/errors.js';
import { etagOf, requireIfMatch } from '../http/conditionalRequests.js';
import { refuseOffersWhilePaused } from '../partners/partnerPause.js';
import type { PendingInvitationCap } from './pendingInvitationCap.js';
import { insertOfferWithinLimits, isDuplicateOffer, refusalOf, type OfferRow } from './offerInsert.js';
import type { PartnerMailQuota } from './partnerMailQuota.js';
import { relationshipAfterStep, relationshipFromRow, relationshipInclude } from './relationshipView.js';
import { createRelationshipSchemaFor, type CreateRelationshipRequest, type ListRelationshipsQuery } from './relationshipSchemas.js';
import type { ProvisioningCompletionRequest } from './purchaseSchemas.js';
import { toStepError } from './temporalErrors.js';

/** The UUID v5 namespace of offer ids derived from an Idempotency-Key operation (fixed: changing it changes every such id). */
const OFFER_ID_NAMESPACE = '2541fdda-7224-563f-a469-9c8cbf751f37';

export interface RelationshipServiceDeps {
  db: Database;
  temporal: Client;
  log: Logger;
  taskQueue: string;
  namespace: string;
  temporalUiUrl: string;
  pendingInvitations: PendingInvitationCap;
  /** Offers and resends each charge one invitation email to the partner's hour. */
  partnerMail: PartnerMailQuota;
  /** The operator's settings for offers: short durations allowed or not, and limits written into each offer's policy. */
  offers: OperatorLimits & { allowShortDurations: boolean };
}

type PartnerPrincipal = Extract<PartnerOrOperator, { kind: 'partner' }>;
export type PartnerStep = 'resend' | 'withdraw' | 'terminate';

const partnerSteps = { resend: resendUpdate, withdraw: withdrawUpdate, terminate: terminateUpdate } as const;
const READ_MODEL_WAIT_MS = 5_000;
const READ_MODEL_POLL_MS = 20;

export function createRelationshipService(deps: RelationshipServiceDeps) {
  const { db, temporal, log } = deps;
  // Partners never learn which of a tenant's admins acted: that would tell them who the admins are.
  const fromRow = (principal: PartnerOrOperator, row: Parameters<typeof relationshipFromRow>[0]) =>
    relationshipFromRow(row, { temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace, showCustomerIdentity: principal.kind === 'operator' });

  async function findVisible(principal: PartnerOrOperator, id: string) {
    const row = await db.relationship.findUnique({ where: { id }, include: relationshipInclude });
    // Another partner's relationship is reported as missing, not forbidden: its existence is not ours to reveal.
    if (!row || (principal.kind === 'partner' && row.partnerId !== principal.partnerId)) {
      throw new AppError('notFound', `No relationship ${id}.`);
    }
    return row;
  }

  const offerSchema = createRelationshipSchemaFor({ allowShortDurations: deps.offers.allowShortDurations });

  /** A partner's offer, checked against the ranges this deployment allows (400 naming each field and its range). */
  function parseOfferRequest(body: unknown): CreateRelationshipRequest {
    return offerSchema.parse(body);
  }

  function policyFrom(body: CreateRelationshipRequest): RelationshipPolicy {
    const { resendCooldownMs, resendsPerInvitation, autoExtendChangesPerRelationship } = deps.offers;
    return {
      ...defaultPolicy,
      // The operator's limits travel in the offer, so the workflow enforces them without reading configuration.
      resendCooldownMs,
      resendsPerInvitation,
      autoExtendChangesPerRelationship,
      ...(body.invitationTtl ? { invitationTtlMs: body.invitationTtl } : {}),
      ...(body.duration ? { durationMs: body.duration } : {}),
      ...(body.policy?.reminderBeforeExpiry ? { reminderBeforeExpiryMs: body.policy.reminderBeforeExpiry } : {}),
      ...(body.policy?.warningsBeforeEnd ? { warningsBeforeEndMs: body.policy.warningsBeforeEnd } : {}),
      ...(body.policy?.autoExtendBy ? { autoExtendByMs: body.policy.autoExtendBy } : {}),
      ...(body.policy?.trialProvisioningAttempts ? { trialProvisioningAttempts: body.policy.trialProvisioningAttempts } : {}),
    };
  }

  /**
   * Who provisions the purchase and the trial, fixed into the offer now: the workflow never reads the partner's
   * setting later (it stays deterministic), and a change of setting leaves running offers alone.
   */
  function provisioningOf(partner: PartnerPrincipal, body: CreateRelationshipRequest): OfferProvisioning {
    return {
      by: z.enum(provisioners).parse(partner.provisioner),
      deadlineSeconds: body.provisioningDeadlineSeconds ?? purchaseRanges.completionDeadlineSeconds.default,
    };
  }

  /**
   * A step sent under an Idempotency-Key carries an Update id from it: Temporal answers a repeat
   * of the same id with the first outcome, so a retry after the API died (its answer not kept)
   * is not run a second time (a terminate refused as already ended, a third invitation).
   */
  const updateIdFor = (step: string, operationId: string | undefined) => (operationId ? { updateId: `${step}-${operationId}` } : {});

  const limits = { pending: deps.pendingInvitations, mail: deps.partnerMail };

  /**
   * The offer's row (and its purchase's, in the same transaction), only while the partner is under
   * the pending-invitation cap and its mail quota, charged to `hour`. The inserted row is the answer:
   * a new offer has no trial row and no audit event yet (its workflow writes them), so nothing needs
   * reading back.
   */
  async function insertOffer(partnerId: string, row: OfferRow, purchase: CreateRelationshipRequest['purchase'], hour: number) {
    try {
      const inserted = purchase
        ? await db.$transaction(async (tx) => {
            const rel = await insertOfferWithinLimits(tx, limits, row, hour);
            if (!rel) return null;
            // Written with the relationship: the offer is never seen without it.
            const subscription = await tx.subscription.create({
              data: {
                relationshipId: rel.id,
                product: purchase.product,
                seats: purchase.seats,
                term: purchase.term,
                priceAmount: purchase.pricePerSeat.amount,
                currency: purchase.pricePerSeat.currency,
                autoRenew: purchase.autoRenew,
                status: 'offered',
              },
            });
            return { ...rel, subscription };
          })
        : await insertOfferWithinLimits(db, limits, row, hour);
      if (!inserted) throw await refusalOf(db, limits, partnerId, hour);
      return { subscription: null, ...inserted, trial: null, auditEvents: [] };
    } catch (err) {
      if (isDuplicateOffer(err)) {
        const existing = await db.relationship.findUnique({ where: { liveKey: row.liveKey } });
        throw new AppError('conflict', 'A live offer for this tenant and these roles already exists.', {
          reason: 'duplicateOffer',
          relationshipId: existing?.id,
        });
      }
      throw err;
    }
  }

  async function createOffer(partner: PartnerPrincipal, body: CreateRelationshipRequest, operationId?: string) {
    // Under an Idempotency-Key the id comes from it: a retry after the API died between saving the
    // offer and keeping its answer finds this same offer (below) instead of being refused as a duplicate.
    const id = operationId ? uuidv5(operationId, OFFER_ID_NAMESPACE) : randomUUID();
    // Shown in the order the partner asked; compared as a set.
    const roles = body.roles;
    const liveKey = `${partner.partnerId}|${body.customer.tenantDomain}|${[...roles].sort().join(',')}`;
    const policy = policyFrom(body);
    const workflowId = relationshipWorkflowId(id);

    const { tenantDomain, adminEmail: contactEmail, name: contactName } = body.customer;
    // An offer that races a pause becomes an invitation nobody can accept until the resume.
    refuseOffersWhilePaused(partner);
    // The tenant directory is never read or written here: the answer is the same whether or not
    // the tenant is registered and whoever its admins are, so an offer reveals nothing about them.
    const provisioning = body.purchase || body.trial ? provisioningOf(partner, body) : undefined;
    // The same operation again (its answer was lost with the API that made it): it is this offer.
    const earlier = operationId ? await db.relationship.findFirst({ where: { id, partnerId: partner.partnerId } }) : null;
    // A replayed operation was charged when its offer was inserted.
    const hour = deps.partnerMail.hourNow();
    const created = earlier ? null : await insertOffer(partner.partnerId, {
      id,
      workflowId,
      partnerId: partner.partnerId,
      tenantDomain,
      contactEmail,
      contactName: contactName ?? null,
      roles,
      terms: body.terms ?? null,
      autoExtend: body.autoExtend,
      policy: { ...policy },
      trialOffer: body.trial ? { ...body.trial } : null,
      liveKey,
      invitationExpiresAt: new Date(Date.now() + policy.invitationTtlMs),
    }, body.purchase, hour);

    const offer: RelationshipOffer = {
      relationshipId: id,
      partnerId: partner.partnerId,
      partnerName: partner.partnerName,
      tenantDomain,
      customerAdminEmail: contactEmail,
      ...(contactName ? { customerName: contactName } : {}),
      roles,
      ...(body.terms ? { terms: body.terms } : {}),
      autoExtend: body.autoExtend,
      ...(body.trial ? { trial: body.trial } : {}),
      ...(body.purchase ? { purchase: body.purchase } : {}),
      ...(provisioning ? { provisioning } : {}),
      policy,
    };
    // Not written by its workflow yet: the earlier attempt may have died before starting it.
    const mayNeedStart = !earlier || (earlier.status === 'invited' && earlier.version === 0);
    if (mayNeedStart) await startWorkflow(offer, earlier !== null, earlier ? hourOf(earlier.createdAt.getTime()) : hour);
    log.info({ event: earlier ? 'offer.replayed' : 'offer.created', relationshipId: id, workflowId, partnerId: partner.partnerId, tenant: tenantDomain }, earlier ? 'offer found for a repeated operation' : 'offer created');
    return fromRow(partner, created ?? (await findVisible(partner, id)));
  }

  /** `chargedHour`: the hour its invitation email was charged to, given back if the offer is dropped. */
  async function startWorkflow(offer: RelationshipOffer, repeated: boolean, chargedHour: number): Promise<void> {
    const id = offer.relationshipId;
    const workflowId = relationshipWorkflowId(id);
    const { partnerId, partnerName, tenantDomain } = offer;
    try {
      await temporal.workflow.start('relationshipWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ offer }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: RelationshipStatusKey, value: 'invited' },
          { key: PartnerIdKey, value: partnerId },
          { key: TenantDomainKey, value: tenantDomain },
        ],
        staticSummary: `${partnerName} → ${tenantDomain}`,
      });
    } catch (err) {
      // The earlier attempt did start it.
      if (repeated && err instanceof WorkflowExecutionAlreadyStartedError) return;
      // Without a workflow the row would be an offer nobody can act on (and its liveKey would block a
      // new one). Its purchase goes with it. If this process dies first, the reconciler withdraws it.
      await db.$transaction([db.subscription.deleteMany({ where: { relationshipId: id } }), db.relationship.delete({ where: { id } })]);
      await deps.partnerMail.refund(partnerId, chargedHour);
      log.error({ event: 'offer.start_failed', relationshipId: id, workflowId, err }, 'could not start workflow');
      throw new AppError('unavailable', 'Could not start the relationship workflow; try again.');
    }
  }

  async function list(principal: PartnerOrOperator, filters: ListRelationshipsQuery) {
    const rows = await db.relationship.findMany({
      where: {
        // A partner's own id always applies; a partnerId filter can only narrow it further.
        AND: [
          principal.kind === 'partner' ? { partnerId: principal.partnerId } : {},
          filters.partnerId ? { partnerId: filters.partnerId } : {},
          filters.status ? { status: filters.status } : {},
          filters.tenant ? { tenantDomain: filters.tenant } : {},
        ],
      },
      include: relationshipInclude,
      orderBy: { createdAt: 'desc' },
      take: filters.limit,
    });
    return rows.map((row) => fromRow(principal, row));
  }

  async function get(principal: PartnerOrOperator, id: string) {
    return fromRow(principal, await findVisible(principal, id));
  }

  /** A partner's step on its relationship; `ifMatch` (the client's ETag) must still be current. */
  async function runPartnerStep(partner: PartnerPrincipal, id: string, step: PartnerStep, options: { reason?: string; ifMatch?: string; operationId?: string }) {
    const row = await findVisible(partner, id);
    const before = fromRow(partner, row);
    requireIfMatch(options.ifMatch, etagOf(before));
    const input: ActorInput = { actor: { type: 'partner', id: partner.partnerId }, ...(options.reason ? { reason: options.reason } : {}) };
    const ask = () =>
      temporal.workflow
        .getHandle(row.workflowId)
        .executeUpdate(partnerSteps[step], { args: [input], ...updateIdFor(step, options.operationId) })
        .catch((err: unknown) => {
          throw toStepError(err, row.status);
        });
    // A resend emails an invitation: charged to the partner's hour before the workflow is asked,
    // given back if it refuses; a step refused before that (404, 412) charges nothing.
    const state = step === 'resend' ? await deps.partnerMail.within(partner.partnerId, ask) : await ask();
    log.info({ event: `relationship.${step}`, relationshipId: id, workflowId: row.workflowId, status: state.status }, `partner ${step}`);
    return relationshipAfterStep(before, state, { showCustomerIdentity: false });
  }

  /**
   * The partner's system completes (or fails) the subscription or trial it was asked for.
   * Refused with `noSubscriptionRequest` / `noTrialRequest` (409) when nothing waits for it: a
   * duplicate, a late one, a withdrawn request, or none ever sent.
   */
  async function completeRequest(partner: PartnerPrincipal, id: string, what: 'subscription' | 'trial', completion: ProvisioningCompletionRequest, operationId?: string) {
    const row = await findVisible(partner, id);
    const before = fromRow(partner, row);
    const actor = { type: 'partner' as const, id: partner.partnerId };
    const handle = temporal.workflow.getHandle(row.workflowId);
    const reason = what === 'subscription' ? 'noSubscriptionRequest' : 'noTrialRequest';
    const state = await (what === 'subscription'
      ? handle.executeUpdate(completeSubscriptionUpdate, { args: [{ actor, completion }], ...updateIdFor(what, operationId) })
      : handle.executeUpdate(completeTrialUpdate, { args: [{ actor, completion }], ...updateIdFor(what, operationId) })
    ).catch((err: unknown) => {
      // An ended relationship's workflow has completed: the refusal says what became of the request.
      if (err instanceof WorkflowNotFoundError) {
        const became = what === 'subscription' ? before.subscription?.status : before.trial?.status;
        throw new AppError('stepRefused', `No ${what} request is pending: the relationship has ended (${row.status})${became ? ` and its ${what} is ${became}` : ` and had no ${what} to complete`}.`, {
          reason,
          currentStatus: row.status,
        });
      }
      throw toStepError(err, row.status);
    });
    const completed = what === 'subscription' ? state.subscription?.status : state.trial?.status;
    log.info({ event: `${what}.completed`, relationshipId: id, workflowId: row.workflowId, partnerId: partner.partnerId, status: completed }, `partner completed ${what}`);
    return relationshipAfterStep(before, state, { showCustomerIdentity: false });
  }

  async function answerInvitation(
    workflowId: string,
    invitationId: string,
    actor: Actor,
    answer: { accept: true; startTrial: boolean; purchaseConfirmed?: boolean } | { accept: false; reason?: string },
  ) {
    const handle = temporal.workflow.getHandle(workflowId);
    // purchaseConfirmed is sent only when true: an accept without a purchase keeps the input older runs know.
    const update = answer.accept
      ? handle.executeUpdate(acceptUpdate, {
          args: [{ invitationId, actor, startTrial: answer.startTrial, ...(answer.purchaseConfirmed ? { purchaseConfirmed: true } : {}) }],
        })
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
        throw toStepError(err, row.status);
      });
    log.info({ event: 'relationship.removed', relationshipId: id, workflowId: row.workflowId, tenant: tenantDomain }, 'customer removed partner');
    await readModelCaughtUp(id, state.status);
    return state;
  }

  /**
   * The workflow writes the end state (and revokes the grants) a moment after the update
   * returns. Waiting for it here means that when the customer reads "removed", the partner
   * is already gone from the list and the access check already says no.
   */
  async function readModelCaughtUp(id: string, status: string): Promise<void> {
    const deadline = Date.now() + READ_MODEL_WAIT_MS;
    while (Date.now() < deadline) {
      const row = await db.relationship.findUnique({ where: { id }, select: { status: true } });
      if (row?.status === status) return;
      await new Promise((resolve) => setTimeout(resolve, READ_MODEL_POLL_MS));
    }
    log.warn({ event: 'readmodel.lagging', relationshipId: id, status }, 'read model did not catch up in time');
  }

  return { parseOfferRequest, createOffer, list, get, runPartnerStep, completeRequest, answerInvitation, removeByCustomer };
}

export type RelationshipService = ReturnType<typeof createRelationshipService>;
