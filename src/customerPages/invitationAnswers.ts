import type { z } from 'zod';
import type { Logger } from '../infra/logger.js';
import type { RelationshipService } from '../relationships/relationshipService.js';
import { stepRefusalOf } from '../relationships/temporalErrors.js';
import type { DomainChallenges } from '../tenants/domainChallenge.js';
import { purchaseAnswerSchema, type invitationAnswerFormSchema } from './formSchemas.js';
import { invitationView, type InvitationLinks, type LinkProblem, type OpenedInvitation } from './invitationLink.js';

// Answering an invitation: who may (a verified admin of the tenant, now),
// what a Yes with a trial or a purchase offered asks next (the trial step, then
// the purchase step; buying never decides the authorization), and the unregistered domain's way
// in (prove it, then answer). A link that no longer works is `linkProblem`
// before anything else is looked at.

export interface InvitationAnswersDeps {
  links: InvitationLinks;
  relationships: Pick<RelationshipService, 'answerInvitation'>;
  challenges: Pick<DomainChallenges, 'start'>;
  log: Logger;
}

export type InvitationAnswerForm = z.infer<typeof invitationAnswerFormSchema>;

/** The workflow's refusal of an answer, as the link problem the page names. */
const refusalToProblem: Record<string, LinkProblem> = {
  invitationExpired: 'expired',
  invitationUsed: 'used',
  invitationSuperseded: 'superseded',
  alreadyEnded: 'used',
};

/** The service operator paused the partner: no acceptance until it is resumed. */
const isPaused = (found: OpenedInvitation) => found.rel.partner.pausedAt !== null;

export function createInvitationAnswers(deps: InvitationAnswersDeps) {
  const { links, relationships, log } = deps;

  /** What the link shows its holder, by the holder's authority; an admin learns first that the partner is paused. */
  async function show(token: string) {
    const found = await links.open(token);
    if (found.problem) return { outcome: 'linkProblem', problem: found.problem } as const;
    if (found.authority === 'admin' && isPaused(found)) return { outcome: 'partnerPaused', view: invitationView(token, found) } as const;
    return { outcome: found.authority, view: invitationView(token, found) } as const;
  }

  /**
   * The answer form (`form` undefined: it did not parse). Yes → Next accepts at
   * once, or (with a trial offered) first asks for the trial step, and (with a
   * purchase offered) then for the purchase step, whose buttons accept with or
   * without buying: the workflow's `accept` carries startTrial and
   * purchaseConfirmed, so the accept is sent once, with both choices. A confirm
   * without the agreement ticked shows the purchase step again with the error.
   */
  async function answer(token: string, form: InvitationAnswerForm | undefined) {
    const found = await links.open(token);
    if (found.problem) return { outcome: 'linkProblem', problem: found.problem } as const;
    const { rel, authority } = found;
    if (authority !== 'admin') {
      log.warn({ event: 'invitation.answer_refused', relationshipId: rel.id, workflowId: rel.workflowId, authority }, 'answer by a non-admin refused');
      return { outcome: 'notAuthorized', authority, view: invitationView(token, found) } as const;
    }
    const view = invitationView(token, found);
    // While the operator has the partner paused, only No is taken (src/partners/partnerPause.ts).
    if (isPaused(found) && form?.choice !== 'no') {
      log.warn({ event: 'invitation.answer_refused', relationshipId: rel.id, workflowId: rel.workflowId, reason: 'partnerPaused' }, 'accept refused: the partner is paused');
      return { outcome: 'partnerPaused', view } as const;
    }
    if (!form) return { outcome: 'incomplete', view } as const;
    if (form.choice === 'yes' && view.trial && form.trial === undefined) return { outcome: 'trialStep', view, trial: view.trial, purchaseNext: view.purchase !== null } as const;
    const trialChoice = view.trial ? form.trial : undefined;
    let purchaseConfirmed = false;
    if (form.choice === 'yes' && view.purchase) {
      const purchaseStep = { outcome: 'purchaseStep', view, purchase: view.purchase, trial: trialChoice } as const;
      if (form.purchase === undefined) return purchaseStep;
      const decision = purchaseAnswerSchema.safeParse(form);
      if (!decision.success) return { ...purchaseStep, error: decision.error.issues[0]?.message ?? 'Tick the box to agree to the purchase.' } as const;
      purchaseConfirmed = decision.data.purchase === 'confirm';
    }
    const actor = { type: 'customer' as const, id: found.invitation.recipientEmail };
    const startTrial = trialChoice === 'start';
    const choice =
      form.choice === 'yes' ? { accept: true as const, startTrial, purchaseConfirmed } : { accept: false as const, ...(form.reason ? { reason: form.reason } : {}) };
    try {
      const state = await relationships.answerInvitation(rel.workflowId, found.answeredId, actor, choice);
      log.info({ event: 'invitation.answered', relationshipId: rel.id, workflowId: rel.workflowId, status: state.status, startTrial, purchaseConfirmed }, 'invitation answered');
    } catch (err) {
      const refusal = stepRefusalOf(err);
      // Never 'unknown': the link was found, so its page is a 410.
      if (refusal) return { outcome: 'linkProblem', problem: refusalToProblem[refusal.reason] ?? 'used' } as const;
      throw err;
    }
    if (!choice.accept) return { outcome: 'declined', partnerName: rel.partner.name } as const;
    const purchase = view.purchase ? { offer: view.purchase, confirmed: purchaseConfirmed } : null;
    return { outcome: 'accepted', partnerName: rel.partner.name, trial: startTrial ? view.trial : null, purchase } as const;
  }

  /**
   * The unregistered domain's recipient starts proving it (`name`: the
   * organisation name, undefined when it did not parse). The invitation link
   * already proves the inbox, so the challenge needs no email round trip.
   */
  async function startDomainVerification(token: string, name: string | undefined) {
    const found = await links.open(token);
    if (found.problem) return { outcome: 'linkProblem', problem: found.problem } as const;
    if (found.authority !== 'unregistered') return { outcome: 'notUnregistered' } as const;
    if (name === undefined) return { outcome: 'nameInvalid', view: invitationView(token, found) } as const;
    const { token: challengeToken } = await deps.challenges.start({ domain: found.rel.tenantDomain, email: found.invitation.recipientEmail, name });
    log.info({ event: 'tenant.challenge_started', relationshipId: found.rel.id, tenant: found.rel.tenantDomain, from: 'invitation' }, 'domain challenge started');
    return { outcome: 'started', challengeToken } as const;
  }

  return { show, answer, startDomainVerification };
}

export type InvitationAnswers = ReturnType<typeof createInvitationAnswers>;
