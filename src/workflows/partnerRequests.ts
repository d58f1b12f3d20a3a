import { patched, setCurrentDetails } from '@temporalio/workflow';
import type { NotificationEvent } from '../activities/index.js';
import type { PartnerTrialStep } from '../activities/partnerTrials.js';
import type { SubscriptionStep } from '../activities/subscriptions.js';
import type { ProvisioningCompletion } from '../contract/purchase.js';
import type { Actor, RelationshipOffer, RelationshipState } from '../contract/relationship.js';
import { systemActor } from '../contract/relationship.js';
import type { relationshipActivities } from './activityOptions.js';
import { applyCompletion, summaryOf } from './relationshipState.js';

/**
 * Purchase offers (docs/commerce.md): the customer's answer recorded, the subscription provisioned
 * once active, the partner's completion or its deadline, withdrawal at the end. Asked only by runs
 * whose offer has a purchase, so a run an older worker started without these steps replays unchanged.
 */
const PURCHASE_OFFERS = 'purchase-offers';
/**
 * A trial of a partner whose own system provisions: asked for with `trial.requested` once the
 * relationship is active (instead of the provider call while `provisioning`), then completed or
 * failed like a subscription. Asked only by runs whose offer is partner-provisioned with a trial.
 */
const PARTNER_TRIALS = 'partner-trials';

interface Deps {
  state: RelationshipState;
  offer: RelationshipOffer;
  ids: { workflowId: string; relationshipId: string };
  readModel: ReturnType<typeof relationshipActivities>['readModel'];
  notify: (event: NotificationEvent, key: string, extra?: { reason?: string }) => Promise<void>;
  /** Runs a read-model write in line with the workflow's others (relationshipWorkflow.ts). */
  written: (write: () => Promise<void>) => Promise<void>;
}

/** A plain-data copy (what the activity's input would serialize to anyway). */
const copyOf = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const failureOf = (s: { failureReason?: string }) => (s.failureReason ? { reason: s.failureReason } : {});
const lastActor = (state: RelationshipState): Actor => state.transitions.at(-1)?.actor ?? systemActor;

/**
 * What the partner's own system is asked to create for a relationship (a subscription the
 * customer agreed to, a trial the customer took) and the answers it gives: each request is
 * recorded with a signed webhook, completed once through the API before its deadline (else
 * failed), and withdrawn if the relationship ends first. The relationship itself never waits
 * on them: it is active throughout.
 */
export function createPartnerRequests({ state, offer, ids, readModel, notify, written }: Deps) {
  const partnerProvisions = offer.provisioning?.by === 'partner';

  // A completion that arrives while its request is still being recorded (a partner guessing ahead
  // of the webhook) waits for that write, so the row and the webhooks never go back to `requested`.
  let subscriptionRequestRecorded: Promise<void> = Promise.resolve();
  let trialRequestRecorded: Promise<void> = Promise.resolve();

  /** Whether this run takes the purchase steps: it has a purchase, and was not started by a worker without them. */
  const purchaseSteps = () => state.subscription !== undefined && patched(PURCHASE_OFFERS);

  /** Writes the subscription's step to the read model and audit (and the partner's webhook), and names it in the Web UI. */
  async function recordSubscription(step: SubscriptionStep, actor: Actor, tellPartner: boolean): Promise<void> {
    const { subscription } = state;
    if (!subscription) return;
    // As it is now: the write may wait in line behind another while the state moves on.
    const input = { ...ids, step, subscription: copyOf(subscription), actor, at: new Date().toISOString(), tellPartner };
    await written(() => readModel.recordSubscription(input));
    setCurrentDetails(summaryOf(offer, state));
  }

  async function recordTrial(step: PartnerTrialStep, actor: Actor): Promise<void> {
    const { trial } = state;
    if (!trial) return;
    const input = { ...ids, step, trial: copyOf(trial), actor, at: new Date().toISOString() };
    await written(() => readModel.recordTrialStep(input));
  }

  async function settleSubscription(completion: ProvisioningCompletion, actor: Actor): Promise<void> {
    const s = state.subscription;
    if (!s) return;
    applyCompletion(s, completion, new Date().toISOString());
    await subscriptionRequestRecorded;
    await recordSubscription(s.status === 'active' ? 'active' : 'failed', actor, true);
    await notify(s.status === 'active' ? 'subscriptionActive' : 'subscriptionFailed', `subscription-${s.status}`, failureOf(s));
  }

  async function settleTrial(completion: ProvisioningCompletion, actor: Actor): Promise<void> {
    const t = state.trial;
    if (!t) return;
    t.status = completion.status;
    if (completion.status === 'active') t.externalRef = completion.externalRef;
    else t.failureReason = completion.reason;
    await trialRequestRecorded;
    await recordTrial(completion.status, actor);
    if (completion.status === 'active') await notify('trialReady', 'trial-ready');
    else await notify('trialFailed', 'trial-failed', failureOf(t));
  }

  const subscriptionDeadline = (): number | undefined => {
    const s = state.subscription;
    if (s?.status !== 'requested' || !s.deadlineAt || !purchaseSteps()) return undefined;
    return Date.parse(s.deadlineAt);
  };
  const trialDeadline = (): number | undefined => {
    const t = state.trial;
    return t?.status === 'requested' && t.deadlineAt ? Date.parse(t.deadlineAt) : undefined;
  };

  return {
    /** The trial is the partner's system's to create, once the relationship is active (so not the provider's while provisioning). */
    trialIsPartners: (): boolean => partnerProvisions && state.trial !== undefined && patched(PARTNER_TRIALS),

    /** Right after the acceptance: the customer's answer to the purchase, recorded; a No is told to the partner. */
    async recordPurchaseAnswer(): Promise<void> {
      const s = state.subscription;
      if (!s || (s.status !== 'requested' && s.status !== 'declined') || !purchaseSteps()) return;
      const accepted = state.transitions.find((t) => t.to === 'accepted');
      const customer: Actor = accepted?.actor ?? systemActor;
      if (s.status === 'declined') {
        await recordSubscription('declined', customer, true);
        await notify('subscriptionDeclined', 'subscription-declined');
      } else {
        await recordSubscription('agreed', customer, false);
      }
    },

    /**
     * Once the relationship is active, an agreed subscription is created: at once by the local
     * provisioner, or by asking the partner's system, whose completion (or deadline) the live
     * relationship then waits for alongside its own timers.
     */
    async provisionSubscription(): Promise<void> {
      const s = state.subscription;
      if (!s || s.status !== 'requested' || s.requestedAt || state.status !== 'active' || !purchaseSteps()) return;
      s.requestedAt = new Date().toISOString();
      const provisioning = offer.provisioning;
      if (provisioning?.by === 'partner') {
        s.deadlineAt = new Date(Date.now() + provisioning.deadlineSeconds * 1000).toISOString();
        subscriptionRequestRecorded = recordSubscription('requested', systemActor, true);
        await subscriptionRequestRecorded;
        return;
      }
      const { externalRef } = await readModel.provisionLocalSubscription(ids);
      applyCompletion(s, { status: 'active', externalRef }, new Date().toISOString());
      await recordSubscription('active', systemActor, true);
      await notify('subscriptionActive', 'subscription-active');
    },

    /** Once the relationship is active, the trial the customer took is asked of the partner's system. */
    async requestTrial(): Promise<void> {
      const t = state.trial;
      const provisioning = offer.provisioning;
      if (t?.status !== 'pending' || state.status !== 'active' || provisioning?.by !== 'partner') return;
      t.status = 'requested';
      t.requestedAt = new Date().toISOString();
      t.deadlineAt = new Date(Date.now() + provisioning.deadlineSeconds * 1000).toISOString();
      trialRequestRecorded = recordTrial('requested', systemActor);
      await trialRequestRecorded;
    },

    completeSubscription: settleSubscription,
    completeTrial: settleTrial,

    /** When the next open request's deadline falls (ms), if any: the live relationship waits for it too. */
    nextDeadline(): number | undefined {
      const due = [subscriptionDeadline(), trialDeadline()].filter((d): d is number => d !== undefined);
      return due.length ? Math.min(...due) : undefined;
    },

    /** Every open request whose deadline has passed is failed, both sides told. */
    async failOverdue(): Promise<void> {
      const now = Date.now();
      const s = state.subscription;
      const subscriptionDue = subscriptionDeadline();
      if (s && subscriptionDue !== undefined && subscriptionDue <= now) {
        await settleSubscription({ status: 'failed', reason: `The partner's system did not complete the request by its deadline (${s.deadlineAt ?? 'unknown'}).` }, systemActor);
      }
      const t = state.trial;
      const trialDue = trialDeadline();
      if (t && trialDue !== undefined && trialDue <= now) {
        await settleTrial({ status: 'failed', reason: `The partner's system did not complete the trial request by its deadline (${t.deadlineAt ?? 'unknown'}).` }, systemActor);
      }
    },

    /**
     * The relationship ended: a purchase still unanswered, or agreed and not yet completed, is
     * cancelled; a request the partner's system was sent (subscription or trial) is withdrawn
     * with a signed webhook.
     */
    async withdrawOpen(): Promise<void> {
      const s = state.subscription;
      if (s && (s.status === 'offered' || s.status === 'requested') && purchaseSteps()) {
        const wasSent = s.requestedAt !== undefined;
        s.status = 'cancelled';
        s.failureReason = `The relationship ended (${state.status}) before the subscription was ${s.agreedAt ? 'created' : 'agreed'}.`;
        await recordSubscription('cancelled', lastActor(state), wasSent);
      }
      const t = state.trial;
      if (t?.status === 'requested') {
        t.status = 'cancelled';
        t.failureReason = `The relationship ended (${state.status}) before the trial was created.`;
        await recordTrial('cancelled', lastActor(state));
      }
    },
  };
}
