import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { NotificationEvent } from '../activities/index.js';
import {
  acceptUpdate,
  completeSubscriptionUpdate,
  completeTrialUpdate,
  type CompleteSubscriptionInput,
  type CompleteTrialInput,
  declineUpdate,
  type AcceptInput,
  type DeclineInput,
  getStateQuery,
  invitationUndeliverableSignal,
  removeUpdate,
  resendUpdate,
  setAutoExtendUpdate,
  terminateUpdate,
  withdrawUpdate,
} from '../contract/messages.js';
import { CANCELLED_REASON, cancellingOperator } from '../contract/endReasons.js';
import { addDuration, policyProblem, type PolicyProblem } from '../contract/policy.js';
import type { Actor, RelationshipState, RelationshipWorkflowInput } from '../contract/relationship.js';
import { snapshotOf, systemActor } from '../contract/relationship.js';
import { RelationshipStatusKey } from '../contract/searchAttributes.js';
import { isEnded, liveAfterAcceptance, type RelationshipStatus } from '../contract/statuses.js';
import { relationshipActivities } from './activityOptions.js';
import { createPartnerRequests } from './partnerRequests.js';
import {
  requireAutoExtendChangeAllowed,
  requireOpenInvitation,
  requireResendAllowed,
  requireStatus,
  requireSubscriptionRequest,
  requireTrialRequest,
} from './refusals.js';
import { answerPurchase, initialState, summaryOf } from './relationshipState.js';

/**
 * Patches (docs/workflow.md, "Versioning"). A run started before them replays
 * the old path; a run still failing its task on a date it could not compute
 * takes the new path at its next task and ends cleanly.
 */
const POLICY_CHECKED_AT_START = 'policy-checked-at-start';
const POLICY_DATES_CHECKED = 'policy-dates-checked';
/** An operator's cancellation ends the relationship (grants revoked, audited, told) instead of leaving it live. */
const CANCELLATION_ENDS_RELATIONSHIP = 'cancellation-ends-relationship';
/** A relationship that ends while its trial is provisioned cancels that activity and undoes the trial. */
const TRIAL_UNDONE_WHEN_ENDED = 'trial-undone-when-ended';
/** Two or more transitions waiting to be written go in one activity (one workflow round trip). */
const TRANSITIONS_WRITTEN_TOGETHER = 'transitions-written-together';
/** A Yes with nothing to provision first becomes `active` at once, written with the acceptance. */
const ACTIVE_WITH_ACCEPTANCE = 'active-with-acceptance';
/** A run waiting (invited or active) continues as new once its history is long (a signal flood). */
const LONG_WAIT_CONTINUES_AS_NEW = 'long-wait-continues-as-new';
/** The first invitation is issued while `invited` is written (two activities in one workflow task), not after. */
const INVITATION_WITH_FIRST_WRITE = 'invitation-with-first-write';
/** A renewal's write waits in line with the transitions' writes, so an end decided meanwhile is written after it. */
const RENEWAL_WRITTEN_IN_ORDER = 'renewal-written-in-order';
/**
 * The other read-model writes (auto-extend changes, a trial's failure, an undeliverable invitation,
 * the partner requests' steps) wait in line too: written beside a transition, either could commit
 * first, so the audit trail could show a step after the end it came before, and a transition's
 * snapshot could overwrite a newer auto-extend with an older one.
 */
const READ_MODEL_WRITES_IN_ORDER = 'read-model-writes-in-order';

/**
 * One partner relationship from offer to its end. Handlers change state at once
 * (so the caller learns the outcome); the main flow below performs the side
 * effects of each state, in order, through idempotent activities.
 */
export async function relationshipWorkflow({ offer, carried }: RelationshipWorkflowInput): Promise<RelationshipState> {
  const { policy } = offer;
  const { workflowId } = workflowInfo();
  const state = carried ?? initialState(offer, new Date());
  const ids = { workflowId, relationshipId: offer.relationshipId };

  const { readModel, messages, compensation, trial: trialActivities } = relationshipActivities();

  function transition(to: RelationshipStatus, actor: Actor, reason?: string): void {
    const at = new Date().toISOString();
    const seq = (state.transitions.at(-1)?.seq ?? 0) + 1;
    state.transitions.push({ seq, from: state.status, to, at, actor, ...(reason ? { reason } : {}) });
    state.status = to;
    if (to === 'accepted') state.acceptedAt = at;
    if (isEnded(to)) state.endedAt = at;
  }

  // Writes every transition not yet in the read model, oldest first. Calls are
  // chained so the main flow and an update handler never write concurrently. A
  // failed (or cancelled) write fails its caller, not every later flush: the next
  // one starts again from the first unwritten transition.
  let flushing: Promise<void> = Promise.resolve();
  /** Runs a read-model write after every one started before it. */
  function inOrder(write: () => Promise<void>): Promise<void> {
    flushing = flushing.catch(() => undefined).then(write);
    return flushing;
  }
  /** A read-model write other than a transition's, in line with the others on runs that take the patch. */
  function written(write: () => Promise<void>): Promise<void> {
    return patched(READ_MODEL_WRITES_IN_ORDER) ? inOrder(write) : write();
  }
  function flush(): Promise<void> {
    return inOrder(async () => {
      const unwritten = state.transitions.filter((tr) => tr.seq > state.writtenSeq);
      const last = unwritten.at(-1);
      if (last && unwritten.length > 1 && patched(TRANSITIONS_WRITTEN_TOGETHER)) {
        await readModel.recordTransitions({ ...ids, transitions: unwritten, snapshot: snapshotOf(state) });
        state.writtenSeq = last.seq;
      }
      for (const t of state.transitions.filter((tr) => tr.seq > state.writtenSeq)) {
        await readModel.recordTransition({ ...ids, transition: t, snapshot: snapshotOf(state) });
        state.writtenSeq = t.seq;
      }
      upsertSearchAttributes([{ key: RelationshipStatusKey, value: state.status }]);
      setCurrentDetails(summaryOf(offer, state));
    });
  }

  // A notification whose budget ran out is given up with a warning: the lifecycle never stalls on an email.
  const notify = (event: NotificationEvent, key: string, extra: { reason?: string; daysLeft?: number } = {}): Promise<void> =>
    messages.notify({ ...ids, event, key: `${workflowId}-${key}`, ...extra }).catch((err: unknown) => {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      log.warn('notification given up', { event: 'notification.givenUp', notification: event, key, cause: err.cause?.message ?? err.message });
    });

  const requests = createPartnerRequests({ state, offer, ids, readModel, notify, written });

  async function issueInvitation(purpose: 'invitation' | 'reminder' | 'resend'): Promise<void> {
    const step = ++state.invitation.issued;
    const revokePrevious = purpose === 'resend';
    // The id is valid before the email can reach anyone, so a customer who answers at once is never refused.
    const invitationId = uuid4();
    state.invitation.validIds = revokePrevious ? [invitationId] : [...state.invitation.validIds, invitationId];
    await messages.issueInvitation({
      ...ids,
      invitationId,
      step,
      purpose,
      expiresAt: state.invitation.expiresAt,
      revokePrevious,
    });
  }

  setHandler(getStateQuery, () => state);

  // The mail worker's word that the customer's mail server refused an invitation or reminder.
  // Recorded here; the main flow tells the partner (once per invitation round).
  setHandler(invitationUndeliverableSignal, ({ template, reason }) => {
    const { invitation } = state;
    if (state.status !== 'invited' || invitation.deliveryFailure?.round === invitation.round) return;
    invitation.deliveryFailed = true;
    invitation.deliveryFailure = { template, reason, at: new Date().toISOString(), round: invitation.round, partnerTold: false };
  });

  setHandler(
    acceptUpdate,
    ({ actor, startTrial, purchaseConfirmed }) => {
      transition('accepted', actor);
      if (state.trial && !startTrial) state.trial.status = 'skipped';
      // Authorizing never waits on buying: the answer is only noted here; the main flow records it.
      if (state.subscription?.status === 'offered') answerPurchase(state.subscription, actor, purchaseConfirmed === true, new Date().toISOString());
      return state;
    },
    { validator: ({ invitationId }: AcceptInput) => requireOpenInvitation(state, invitationId) },
  );

  setHandler(
    declineUpdate,
    ({ actor, reason }) => {
      transition('declined', actor, reason);
      return state;
    },
    { validator: ({ invitationId }: DeclineInput) => requireOpenInvitation(state, invitationId) },
  );

  setHandler(
    withdrawUpdate,
    ({ actor, reason }) => {
      transition('withdrawn', actor, reason);
      return state;
    },
    { validator: (_input) => requireStatus(state, ['invited'], 'withdraw') },
  );

  setHandler(
    resendUpdate,
    async (_input) => {
      // A new link with a fresh expiry; older links stop working.
      state.invitation.round++;
      state.invitation.resentAt = new Date().toISOString();
      state.invitation.reminderSent = false;
      state.invitation.expiresAt = new Date(Date.now() + policy.invitationTtlMs).toISOString();
      await issueInvitation('resend');
      return state;
    },
    {
      validator: (_input) => {
        requireStatus(state, ['invited'], 'resend');
        requireResendAllowed(state, policy, Date.now());
      },
    },
  );

  setHandler(
    terminateUpdate,
    async ({ actor, reason }) => {
      transition('terminated', actor, reason);
      // The grants are revoked before the caller hears back: access ends the moment this returns.
      await flush();
      return state;
    },
    { validator: (_input) => requireStatus(state, liveAfterAcceptance, 'terminate') },
  );

  setHandler(
    removeUpdate,
    async ({ actor, reason }) => {
      transition('terminated', actor, reason);
      // The grants are revoked before the caller hears back: access ends the moment this returns.
      await flush();
      return state;
    },
    { validator: (_input) => requireStatus(state, liveAfterAcceptance, 'remove the partner') },
  );

  setHandler(
    setAutoExtendUpdate,
    async ({ actor, autoExtend }) => {
      state.autoExtend = autoExtend;
      state.autoExtendChanges = (state.autoExtendChanges ?? 0) + 1;
      const at = new Date().toISOString();
      await written(() => readModel.recordAutoExtend({ ...ids, autoExtend, actor, at }));
      return state;
    },
    {
      validator: (_input) => {
        requireStatus(state, ['invited', ...liveAfterAcceptance], 'change auto-extend');
        requireAutoExtendChangeAllowed(state, policy);
      },
    },
  );

  // The partner's system answering a `subscription.requested` or `trial.requested`. The validators
  // refuse a duplicate, a late one and one for a withdrawn request before anything reaches history.
  setHandler(
    completeSubscriptionUpdate,
    async ({ actor, completion }) => {
      await requests.completeSubscription(completion, actor);
      return state;
    },
    { validator: (_input: CompleteSubscriptionInput) => requireSubscriptionRequest(state, Date.now()) },
  );

  setHandler(
    completeTrialUpdate,
    async ({ actor, completion }) => {
      await requests.completeTrial(completion, actor);
      return state;
    },
    { validator: (_input: CompleteTrialInput) => requireTrialRequest(state, Date.now()) },
  );

  async function awaitInvitationAnswer(): Promise<void> {
    while (state.status === 'invited') {
      const { round } = state.invitation;
      const expiresAt = Date.parse(state.invitation.expiresAt);
      const remindAt = expiresAt - policy.reminderBeforeExpiryMs;
      const remindNext = !state.invitation.reminderSent && remindAt > Date.now();
      const wakeAt = remindNext ? remindAt : expiresAt;
      const changed = await condition(
        () => state.status !== 'invited' || state.invitation.round !== round || deliveryFailureToReport() || historyIsLong(),
        Math.max(wakeAt - Date.now(), 1),
      );
      if (changed) {
        if (state.status === 'invited' && deliveryFailureToReport()) await reportDeliveryFailure();
        if (state.status === 'invited' && historyIsLong()) await continueAsNewWithState();
        continue;
      }
      if (remindNext) {
        state.invitation.reminderSent = true;
        await issueInvitation('reminder');
      } else {
        transition('invitationExpired', systemActor);
      }
    }
  }

  /**
   * Signals reach history even when the handler ignores them, so a long wait could grow one
   * run's history without bound. Runs started before this never ask (see the lifecycle).
   */
  function historyIsLong(): boolean {
    if (!waitsMayContinueAsNew) return false;
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    const limit = policy.historyEventsBeforeContinueAsNew;
    return continueAsNewSuggested || (limit !== undefined && historyLength >= limit);
  }

  async function continueAsNewWithState(): Promise<never> {
    await flush();
    await condition(allHandlersFinished);
    return continueAsNew<typeof relationshipWorkflow>({ offer, carried: state });
  }

  // Only ever true after an invitationUndeliverable signal, so histories without one replay unchanged.
  function deliveryFailureToReport(): boolean {
    return state.invitation.deliveryFailure?.partnerTold === false;
  }

  async function reportDeliveryFailure(): Promise<void> {
    const failure = state.invitation.deliveryFailure;
    if (!failure) return;
    failure.partnerTold = true;
    await written(() => readModel.recordInvitationUndeliverable({ ...ids, template: failure.template, reason: failure.reason, at: failure.at, round: failure.round }));
    await notify('deliveryFailed', `delivery-failed-${failure.round}`, { reason: failure.reason });
  }

  async function provisionTrial(): Promise<void> {
    const trial = state.trial;
    // Removed or terminated while still `accepted`: an ended relationship never comes back to life.
    if (!trial || trial.status !== 'pending' || state.status !== 'accepted') return;
    // The partner's own system makes it once the relationship is active (requestTrial).
    if (requests.trialIsPartners()) return;
    transition('provisioning', systemActor);
    await flush();
    // A removal or terminate while the provider works cancels the attempt: the relationship's
    // end is not kept waiting on the provider, and no "trial ready" follows it.
    const attempt = new CancellationScope();
    const watch = new CancellationScope();
    void watch
      .run(() => condition(() => isEnded(state.status)))
      .then(() => {
        if (patched(TRIAL_UNDONE_WHEN_ENDED)) attempt.cancel();
      })
      .catch(() => undefined);
    try {
      const result = await attempt.run(() => trialActivities.provisionTrial({ ...ids, offer: trial.offer, seats: trial.seats, days: trial.days, providerAttempts: policy.trialProvisioningAttempts }));
      if (isEnded(state.status) && patched(TRIAL_UNDONE_WHEN_ENDED)) return await undoTrial();
      trial.status = 'active';
      trial.externalRef = result.externalRef;
      await notify('trialReady', 'trial-ready');
    } catch (err) {
      // The workflow itself is being cancelled: its cleanup undoes the trial.
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
      if (isEnded(state.status) && patched(TRIAL_UNDONE_WHEN_ENDED)) return await undoTrial();
      if (!(err instanceof ActivityFailure)) throw err;
      // Acceptance is never lost to a failing trial: the partner is told instead.
      trial.status = 'failed';
      trial.failureReason = err.cause?.message ?? err.message;
      const reason = trial.failureReason;
      await written(() => readModel.recordTrialFailure({ ...ids, reason }));
      await notify('trialFailed', 'trial-failed', { reason: trial.failureReason });
    } finally {
      watch.cancel();
    }
  }

  /** The relationship ended while its trial was provisioned: the trial is cancelled wherever it got to. */
  async function undoTrial(): Promise<void> {
    const { trial } = state;
    if (!trial) return;
    trial.status = 'cancelled';
    const reason = state.transitions.at(-1)?.reason ?? 'the relationship ended';
    await CancellationScope.nonCancellable(() =>
      compensation.cancelTrial({ ...ids, reason, trial: { offer: trial.offer, seats: trial.seats, days: trial.days } }),
    );
  }

  async function liveUntilEnd(): Promise<void> {
    while (state.status === 'active') {
      const endsAt = Date.parse(state.endsAt ?? new Date().toISOString());
      // Warnings already due when we get here (a short relationship) are skipped, not sent late.
      for (const before of policy.warningsBeforeEndMs) {
        if (!state.warningsSent.includes(before) && endsAt - before <= Date.now()) state.warningsSent.push(before);
      }
      const warning = policy.warningsBeforeEndMs
        .filter((before) => !state.warningsSent.includes(before))
        .sort((a, b) => b - a)[0];
      const wakeAt = warning === undefined ? endsAt : endsAt - warning;
      // A request sent to the partner's system waits here too: its deadline is one more timer (re-armed from state after a continue-as-new).
      const deadline = requests.nextDeadline();
      const wake = deadline === undefined ? wakeAt : Math.min(wakeAt, deadline);
      const changed = await condition(() => state.status !== 'active' || historyIsLong(), Math.max(wake - Date.now(), 1));
      if (changed && state.status === 'active') await continueAsNewWithState();
      if (changed) return;
      if (deadline !== undefined && deadline <= Date.now()) {
        await requests.failOverdue();
        continue;
      }
      if (warning !== undefined) {
        state.warningsSent.push(warning);
        const daysLeft = Math.max(1, Math.round(warning / 86_400_000));
        await notify('endingSoon', `ending-soon-r${state.renewals}-${warning}`, { daysLeft });
      } else if (state.autoExtend) {
        // A run started before the policy was checked may hold an extension no date can represent.
        if (addDuration(endsAt, policy.autoExtendByMs) === undefined && patched(POLICY_DATES_CHECKED)) {
          endForInvalidPolicy({ field: 'autoExtendByMs', message: 'gives an end date that cannot be represented' });
        } else {
          await renewAndContinueAsNew(endsAt);
        }
      } else {
        transition('expired', systemActor);
      }
    }
  }

  async function renewAndContinueAsNew(endsAt: number): Promise<never> {
    state.renewals++;
    state.endsAt = new Date(endsAt + policy.autoExtendByMs).toISOString();
    state.warningsSent = [];
    const renewal = { ...ids, renewal: state.renewals, endsAt: state.endsAt };
    // A terminate or removal accepted while this is written is written after it, as it happened:
    // before, its flush could commit first and the audit trail showed a renewal after the end.
    if (patched(RENEWAL_WRITTEN_IN_ORDER)) await inOrder(() => readModel.recordRenewal(renewal));
    else await readModel.recordRenewal(renewal);
    await notify('renewed', `renewed-${state.renewals}`);
    // A relationship that renews for years keeps a bounded history.
    await condition(allHandlersFinished);
    return continueAsNew<typeof relationshipWorkflow>({ offer, carried: state });
  }

  /**
   * A policy outside its ranges (an input that bypassed the API) ends the relationship
   * as the system: an invitation is withdrawn, a live relationship terminated (its
   * grants revoked by the next flush), each with the reason, never a task failing forever.
   */
  function endForInvalidPolicy(problem: PolicyProblem): void {
    const reason = `Ended by the system: the relationship's policy is not valid (${problem.field} ${problem.message}).`;
    transition(state.status === 'invited' ? 'withdrawn' : 'terminated', systemActor, reason);
  }

  // --- the lifecycle ---
  // Asked once, first: a run started before the patch replays with it false and its waits unchanged.
  const waitsMayContinueAsNew = patched(LONG_WAIT_CONTINUES_AS_NEW);
  let endNotified = false;
  try {
    await lifecycle();
  } catch (err) {
    // Request Cancellation (Web UI, CLI or a client's handle.cancel()): end the relationship
    // as an operator would, in a scope the cancellation cannot interrupt, then end as cancelled.
    if (!isCancellation(err) || !patched(CANCELLATION_ENDS_RELATIONSHIP)) throw err;
    await CancellationScope.nonCancellable(endForCancellation);
    throw err;
  }
  return state;

  async function endForCancellation(): Promise<void> {
    const wasProvisioning = state.status === 'provisioning';
    if (!isEnded(state.status)) transition(state.status === 'invited' ? 'withdrawn' : 'terminated', cancellingOperator, CANCELLED_REASON);
    await flush();
    if (wasProvisioning) await undoTrial();
    await requests.withdrawOpen();
    if (!endNotified) await notifyEnd();
  }

  async function lifecycle(): Promise<void> {
    const problem = isEnded(state.status) ? undefined : policyProblem(policy, offer.trial);
    const endedAtStart = problem !== undefined && patched(POLICY_CHECKED_AT_START);
    if (problem && endedAtStart) endForInvalidPolicy(problem);

    if (!carried) {
      if (!endedAtStart && patched(INVITATION_WITH_FIRST_WRITE)) {
        // Independent: the offer's row (what the invitation reads) was written before this run
        // started, and `invited` only adds its audit event and webhook. One round trip, not two.
        await Promise.all([flush(), issueInvitation('invitation')]);
        await awaitInvitationAnswer();
      } else {
        await flush();
        if (!endedAtStart) {
          await issueInvitation('invitation');
          await awaitInvitationAnswer();
        }
      }
    } else {
      await flush();
      // A run continued as new while invited (a long history) goes on waiting for the answer.
      if (state.status === 'invited') await awaitInvitationAnswer();
    }

    // Active in the same write as the acceptance when nothing has to happen in between (no trial
    // for the deployment's provider to make): the customer's Yes reaches `active` in one activity.
    if (state.status === 'accepted' && patched(ACTIVE_WITH_ACCEPTANCE) && !trialForProvider() && addDuration(Date.now(), policy.durationMs) !== undefined) {
      activate();
      await flush();
      await notify('accepted', 'accepted');
      await requests.recordPurchaseAnswer();
      await requests.provisionSubscription();
      await requests.requestTrial();
    }
    if (state.status === 'accepted') {
      await flush();
      await notify('accepted', 'accepted');
      await requests.recordPurchaseAnswer();
      await provisionTrial();
      if (!isEnded(state.status)) {
        if (addDuration(Date.now(), policy.durationMs) === undefined && patched(POLICY_DATES_CHECKED)) {
          endForInvalidPolicy({ field: 'durationMs', message: 'gives an end date that cannot be represented' });
        } else {
          activate();
          await flush();
          await requests.provisionSubscription();
          await requests.requestTrial();
        }
      }
    }
    await liveUntilEnd();

    await flush();
    await requests.withdrawOpen();
    await notifyEnd();
    endNotified = true;
    await condition(allHandlersFinished);
  }

  function activate(): void {
    state.activatedAt = new Date().toISOString();
    state.endsAt = new Date(Date.now() + policy.durationMs).toISOString();
    transition('active', systemActor);
  }

  /** A trial the customer took that the deployment's provider makes while `provisioning` (not the partner's system). */
  function trialForProvider(): boolean {
    return state.trial?.status === 'pending' && !requests.trialIsPartners();
  }

  async function notifyEnd(): Promise<void> {
    const last = state.transitions.at(-1);
    switch (state.status) {
      case 'declined':
        return notify('declined', 'declined', last?.reason ? { reason: last.reason } : {});
      case 'invitationExpired':
        return notify('invitationExpired', 'invitation-expired');
      case 'withdrawn':
        return notify('withdrawn', 'withdrawn');
      case 'terminated':
        return notify(last?.actor.type === 'customer' ? 'removed' : 'terminated', 'terminated', last?.reason ? { reason: last.reason } : {});
      case 'expired':
        return notify('expired', 'expired');
      default:
        return;
    }
  }
}
