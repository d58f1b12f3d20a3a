import { Router, type Response } from 'express';
import { invitationAnswerFormSchema, organisationNameFieldSchema } from '../formSchemas.js';
import type { InvitationAnswers } from '../invitationAnswers.js';
import type { InvitationForwarding } from '../invitationForwarding.js';
import type { InvitationView } from '../invitationLink.js';
import {
  acceptedPage,
  authorizationPage,
  declinedPage,
  forwardedPage,
  linkProblemPage,
  notAdminPage,
  partnerPausedPage,
  purchasePage,
  trialPage,
  unregisteredPage,
  type LinkProblem,
} from '../pages/invitationPages.js';

export interface InvitationRoutesDeps {
  invitations: InvitationAnswers;
  forwarding: InvitationForwarding;
}

/** A link we do not know is 404; one that no longer works is 410. */
const sendLinkProblem = (res: Response, problem: LinkProblem) => res.status(problem === 'unknown' ? 404 : 410).send(linkProblemPage(problem));

/** The page for someone whose link does not authorize them (yet): forward it, or prove the domain. */
const withoutAuthority = (authority: 'notAdmin' | 'unregistered', view: InvitationView) =>
  authority === 'unregistered' ? unregisteredPage(view) : notAdminPage(view);

/**
 * The emailed invitation link (rules: invitationLink.ts, invitationAnswers.ts,
 * invitationForwarding.ts).
 *
 * CSRF: these forms carry no session token on purpose: they act only through
 * the 256-bit single-use token in their own address, which another site cannot
 * know, so it cannot forge the post; the token *is* the capability.
 */
export function invitationRoutes(deps: InvitationRoutesDeps): Router {
  const { invitations, forwarding } = deps;
  const router = Router();

  router.get('/invitations/:token', async (req, res) => {
    const shown = await invitations.show(req.params.token);
    if (shown.outcome === 'linkProblem') return sendLinkProblem(res, shown.problem);
    if (shown.outcome === 'partnerPaused') return res.send(partnerPausedPage(shown.view));
    if (shown.outcome !== 'admin') return res.send(withoutAuthority(shown.outcome, shown.view));
    res.send(authorizationPage(shown.view));
  });

  router.post('/invitations/:token', async (req, res) => {
    const form = invitationAnswerFormSchema.safeParse(req.body);
    const answered = await invitations.answer(req.params.token, form.success ? form.data : undefined);
    switch (answered.outcome) {
      case 'linkProblem':
        return sendLinkProblem(res, answered.problem);
      case 'notAuthorized':
        return res.status(403).send(withoutAuthority(answered.authority, answered.view));
      case 'partnerPaused':
        return res.status(409).send(partnerPausedPage(answered.view));
      case 'incomplete':
        return res.status(400).send(authorizationPage(answered.view, 'Choose Yes or No, then select Next.'));
      case 'trialStep':
        return res.send(trialPage({ token: answered.view.token, partnerName: answered.view.partnerName, trial: answered.trial, purchaseNext: answered.purchaseNext }));
      case 'purchaseStep': {
        const step = { token: answered.view.token, partnerName: answered.view.partnerName, purchase: answered.purchase, ...(answered.trial ? { trial: answered.trial } : {}) };
        return 'error' in answered ? res.status(400).send(purchasePage(step, answered.error)) : res.send(purchasePage(step));
      }
      case 'accepted':
        return res.send(acceptedPage(answered.partnerName, answered.trial, answered.purchase));
      case 'declined':
        return res.send(declinedPage(answered.partnerName));
    }
  });

  router.post('/invitations/:token/forward', async (req, res) => {
    const forwarded = await forwarding.forward(req.params.token);
    if (forwarded.outcome === 'linkProblem') return sendLinkProblem(res, forwarded.problem);
    if (forwarded.outcome === 'notForwardable') return res.redirect(303, `/invitations/${req.params.token}`);
    res.send(forwardedPage({ partnerName: forwarded.partnerName, customerName: forwarded.customerName }));
  });

  router.post('/invitations/:token/verify-domain', async (req, res) => {
    const name = organisationNameFieldSchema.safeParse((req.body as { name?: unknown } | undefined)?.name);
    const started = await invitations.startDomainVerification(req.params.token, name.success ? name.data : undefined);
    switch (started.outcome) {
      case 'linkProblem':
        return sendLinkProblem(res, started.problem);
      case 'notUnregistered':
        return res.redirect(303, `/invitations/${req.params.token}`);
      case 'nameInvalid':
        return res.status(400).send(unregisteredPage(started.view, `Organisation name ${name.error?.issues[0]?.message ?? 'is not valid'}.`));
      case 'started':
        return res.redirect(303, `/tenants/verify/${started.challengeToken}?invitation=${encodeURIComponent(req.params.token)}`);
    }
  });

  return router;
}
