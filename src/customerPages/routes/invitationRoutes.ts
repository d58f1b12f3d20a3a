import { Router } from 'express';
import { invitationEmailData } from '../../activities/invitationEmail.js';
import { loadRelationshipContext, recipientKey } from '../../activities/relationshipContext.js';
import type { Database } from '../../infra/database.js';
import type { Logger } from '../../infra/logger.js';
import { storedPolicy, storedTrialOffer } from '../../relationships/storedOffer.js';
import { linkFor } from '../../infra/linkTokens.js';
import { hashToken } from '../../infra/tokens.js';
import type { MailOutbox } from '../../mail/mailOutbox.js';
import type { DomainChallenges } from '../../tenants/domainChallenge.js';
import { tenantNameSchema } from '../../tenants/tenantIdentifiers.js';
import type { TenantDirectory } from '../../tenants/tenantDirectory.js';
import {
  acceptedPage,
  authorizationPage,
  declinedPage,
  forwardedPage,
  linkProblemPage,
  notAdminPage,
  trialPage,
  unregisteredPage,
  type AuthorizationView,
  type LinkProblem,
} from '../pages/invitationPages.js';
import { withRedis } from '../../http/redisAvailability.js';
import type { RelationshipService } from '../../relationships/relationshipService.js';
import { invitationAnswerFormSchema } from '../formSchemas.js';
import { stepRefusalOf } from '../../relationships/temporalErrors.js';

export interface InvitationRoutesDeps {
  db: Database;
  relationships: RelationshipService;
  tenants: TenantDirectory;
  challenges: DomainChallenges;
  mail: MailOutbox;
  publicBaseUrl: string;
  /** Link tokens are derived from it (see linkTokens.ts); mail jobs carry only a reference. */
  linkSecret: string;
  log: Logger;
}

const refusalToProblem: Record<string, LinkProblem> = {
  invitationExpired: 'expired',
  invitationUsed: 'used',
  invitationSuperseded: 'superseded',
  alreadyEnded: 'used',
};

/**
 * The emailed invitation link. The link proves only that its holder reads the
 * inbox it was sent to; an answer counts only while that address is a verified
 * admin of the relationship's tenant, checked at the moment of the answer. A
 * contact who is not an admin can forward the request to the admins (registered
 * tenant) or prove the domain and become its first admin (unregistered one).
 *
 * CSRF: these forms carry no session token on purpose: they act only through
 * the 256-bit single-use token in their own address, which another site cannot
 * know, so it cannot forge the post; the token *is* the capability.
 */
export function invitationRoutes(deps: InvitationRoutesDeps): Router {
  const { db, relationships, tenants, log } = deps;
  const router = Router();

  async function openInvitation(token: string) {
    const invitation = await db.invitation.findUnique({ where: { tokenHash: hashToken(token) } });
    if (!invitation) return { problem: 'unknown' as const };
    // A forwarded link answers the invitation it was forwarded from, and lives no longer than it.
    const answered = invitation.forwardedFromId ? await db.invitation.findUnique({ where: { id: invitation.forwardedFromId } }) : invitation;
    if (!answered) return { problem: 'unknown' as const };
    const rel = await db.relationship.findUniqueOrThrow({ where: { id: invitation.relationshipId }, include: { partner: true } });
    const revokedAt = invitation.revokedAt ?? answered.revokedAt;
    const usedAt = invitation.usedAt ?? answered.usedAt;
    if (revokedAt && rel.status === 'invited') return { problem: 'superseded' as const };
    if (rel.status === 'invitationExpired' || answered.expiresAt.getTime() <= Date.now()) return { problem: 'expired' as const };
    if (usedAt || revokedAt || rel.status !== 'invited') return { problem: 'used' as const };
    const tenant = await db.tenant.findUnique({ where: { domain: rel.tenantDomain } });
    const authority = !tenant ? 'unregistered' : (await tenants.isAdmin(tenant.domain, invitation.recipientEmail)) ? 'admin' : 'notAdmin';
    return { problem: null, invitation, answeredId: answered.id, rel, tenant, authority } as const;
  }

  type OpenInvitation = Extract<Awaited<ReturnType<typeof openInvitation>>, { problem: null }>;

  function authorizationView(token: string, { rel, invitation, tenant }: OpenInvitation) {
    const policy = storedPolicy(rel.policy);
    const view: AuthorizationView = {
      token,
      partnerName: rel.partner.name,
      partnerContactEmail: rel.partner.contactEmail,
      customerName: tenant?.name ?? rel.tenantDomain,
      roles: rel.roles,
      terms: rel.terms,
      durationMs: policy.durationMs ?? null,
      autoExtend: rel.autoExtend,
      trial: storedTrialOffer(rel.trialOffer),
      expiresAt: invitation.expiresAt,
    };
    return { ...view, recipientEmail: invitation.recipientEmail, tenantDomain: rel.tenantDomain, suggestedName: rel.contactName ?? rel.tenantDomain };
  }

  /** The page for someone whose link does not authorize them (yet), and its status code. */
  function withoutAuthority(token: string, found: OpenInvitation, notice?: string) {
    const view = authorizationView(token, found);
    return found.authority === 'unregistered' ? unregisteredPage(view) : notAdminPage(view, notice);
  }

  router.get('/invitations/:token', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    if (found.authority !== 'admin') return res.send(withoutAuthority(req.params.token, found));
    res.send(authorizationPage(authorizationView(req.params.token, found)));
  });

  // Yes → Next accepts at once, or (with a trial offered) first shows the trial
  // step, whose buttons accept with or without the trial. The workflow's
  // `accept` carries startTrial, so the accept is sent once, with the choice.
  router.post('/invitations/:token', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    if (found.authority !== 'admin') {
      log.warn({ event: 'invitation.answer_refused', relationshipId: found.rel.id, workflowId: found.rel.workflowId, authority: found.authority }, 'answer by a non-admin refused');
      return res.status(403).send(withoutAuthority(req.params.token, found));
    }
    const view = authorizationView(req.params.token, found);
    const parsed = invitationAnswerFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(authorizationPage(view, 'Choose Yes or No, then select Next.'));
    const { rel } = found;
    const form = parsed.data;
    if (form.choice === 'yes' && view.trial && form.trial === undefined) {
      return res.send(trialPage({ token: view.token, partnerName: view.partnerName, trial: view.trial }));
    }
    const actor = { type: 'customer' as const, id: found.invitation.recipientEmail };
    const startTrial = Boolean(view.trial) && form.trial === 'start';
    const answer =
      form.choice === 'yes' ? { accept: true as const, startTrial } : { accept: false as const, ...(form.reason ? { reason: form.reason } : {}) };
    try {
      const state = await relationships.answerInvitation(rel.workflowId, found.answeredId, actor, answer);
      log.info({ event: 'invitation.answered', relationshipId: rel.id, workflowId: rel.workflowId, status: state.status, startTrial }, 'invitation answered');
      return res.send(answer.accept ? acceptedPage(rel.partner.name, startTrial ? view.trial : null) : declinedPage(rel.partner.name));
    } catch (err) {
      const refusal = stepRefusalOf(err);
      if (refusal) return res.status(410).send(linkProblemPage(refusalToProblem[refusal.reason] ?? 'used'));
      throw err;
    }
  });

  // Each admin gets a link of its own (bound to its address), once per invitation however often this is posted.
  router.post('/invitations/:token/forward', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    if (found.authority !== 'notAdmin' || !found.tenant) return res.redirect(303, `/invitations/${req.params.token}`);
    const { rel, tenant, invitation } = found;
    const context = await loadRelationshipContext(db, rel.id);
    const admins = await tenants.adminsOf(tenant.domain);
    let sent = 0;
    for (const admin of admins) {
      const key = `forward-${found.answeredId}-${recipientKey(admin)}`;
      // As the workflow's own invitations do: a link whose email never reached the queue is sent again, with the
      // same derived token (the row's id is the derivation input).
      const existing = await db.invitation.findUnique({ where: { idempotencyKey: key } });
      if (existing && (await withRedis('forward the request', () => deps.mail.isEnqueued(key), 3_000))) continue;
      const link = linkFor(deps.linkSecret, 'invitation', existing?.id);
      await db.invitation.upsert({
        where: { idempotencyKey: key },
        create: { id: link.id, relationshipId: rel.id, idempotencyKey: key, tokenHash: link.tokenHash, recipientEmail: admin, forwardedFromId: found.answeredId, expiresAt: invitation.expiresAt },
        update: { tokenHash: link.tokenHash },
      });
      const data = invitationEmailData(context, { expiresAt: invitation.expiresAt.toISOString(), forwardedBy: invitation.recipientEmail });
      const job = { template: 'invitation' as const, to: admin, relationshipId: rel.id, sender: rel.partnerId, link: link.ref, data };
      await withRedis('forward the request', () => deps.mail.enqueue(key, job), 3_000);
      sent++;
    }
    if (sent > 0) {
      await db.auditEvent.create({
        data: {
          idempotencyKey: `forward-${found.answeredId}-${Date.now()}`,
          relationshipId: rel.id,
          tenantDomain: tenant.domain,
          actorType: 'customer',
          actorId: invitation.recipientEmail,
          action: 'invitation.forwarded',
          data: { admins: sent },
        },
      });
    }
    log.info({ event: 'invitation.forwarded', relationshipId: rel.id, workflowId: rel.workflowId, sent }, 'invitation forwarded to admins');
    res.send(forwardedPage({ partnerName: rel.partner.name, customerName: tenant.name }));
  });

  // The invitation link already proves the inbox, so the challenge needs no email round trip.
  router.post('/invitations/:token/verify-domain', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    if (found.authority !== 'unregistered') return res.redirect(303, `/invitations/${req.params.token}`);
    const name = tenantNameSchema.safeParse((req.body as { name?: unknown } | undefined)?.name);
    if (!name.success) {
      return res.status(400).send(unregisteredPage(authorizationView(req.params.token, found), `Organisation name ${name.error.issues[0]?.message ?? 'is not valid'}.`));
    }
    const { token } = await deps.challenges.start({ domain: found.rel.tenantDomain, email: found.invitation.recipientEmail, name: name.data });
    log.info({ event: 'tenant.challenge_started', relationshipId: found.rel.id, tenant: found.rel.tenantDomain, from: 'invitation' }, 'domain challenge started');
    res.redirect(303, `/tenants/verify/${token}?invitation=${encodeURIComponent(req.params.token)}`);
  });

  return router;
}
