import express, { Router, type Request } from 'express';
import { z } from 'zod';

import { isEnded } from '../../contract/statuses.js';
import type { Database } from '../../infra/database.js';
import type { Logger } from '../../infra/logger.js';
import { constantTimeEqual, hashToken, newToken } from '../../infra/tokens.js';
import type { MailOutbox } from '../../mail/mailOutbox.js';
import { readSession, startSession, endSession, type CustomerSession } from '../customerSession.js';
import { AppError } from '../errors.js';
import {
  acceptedPage,
  authorizationPage,
  declinedPage,
  linkProblemPage,
  messagePage,
  type LinkProblem,
} from '../pages/invitationPages.js';
import { confirmDeletePage, partnerListPage, removedPage, signInPage } from '../pages/partnerRelationshipPages.js';
import type { RelationshipService } from '../relationshipService.js';
import { stepRefusalOf } from '../temporalErrors.js';

export interface CustomerPagesDeps {
  db: Database;
  relationships: RelationshipService;
  mail: MailOutbox;
  publicBaseUrl: string;
  log: Logger;
}

const answerSchema = z.object({
  choice: z.enum(['yes', 'no']),
  reason: z.string().trim().max(2000).optional(),
  startTrial: z.literal('yes').optional(),
});
const signInSchema = z.object({ tenantDomain: z.string().trim().toLowerCase().min(1).max(253), email: z.email() });
const SIGN_IN_TTL_MS = 15 * 60_000;

const refusalToProblem: Record<string, LinkProblem> = {
  invitationExpired: 'expired',
  invitationUsed: 'used',
  invitationSuperseded: 'superseded',
  alreadyEnded: 'used',
};

/** Server-rendered pages reached from email links; they work without JavaScript. */
export function customerPages(deps: CustomerPagesDeps): Router {
  const { db, relationships } = deps;
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));
  const secureCookies = deps.publicBaseUrl.startsWith('https:');

  async function openInvitation(token: string) {
    const invitation = await db.invitation.findUnique({
      where: { tokenHash: hashToken(token) },
      include: { relationship: { include: { partner: true, tenant: true } } },
    });
    if (!invitation) return { problem: 'unknown' as const };
    const rel = invitation.relationship;
    if (invitation.revokedAt && rel.status === 'invited') return { problem: 'superseded' as const };
    if (rel.status === 'invitationExpired' || invitation.expiresAt.getTime() <= Date.now()) return { problem: 'expired' as const };
    if (invitation.usedAt || invitation.revokedAt || rel.status !== 'invited') return { problem: 'used' as const };
    return { problem: null, invitation, rel };
  }

  router.get('/invitations/:token', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    const { rel, invitation } = found;
    const policy = rel.policy as { durationMs?: number };
    res.send(
      authorizationPage({
        token: req.params.token,
        partnerName: rel.partner.name,
        partnerContactEmail: rel.partner.contactEmail,
        customerName: rel.tenant.name ?? rel.tenantDomain,
        roles: rel.roles,
        terms: rel.terms,
        durationDays: policy.durationMs ? Math.max(1, Math.round(policy.durationMs / 86_400_000)) : null,
        autoExtend: rel.autoExtend,
        trial: rel.trialOffer as AuthorizationTrial,
        expiresAt: invitation.expiresAt,
      }),
    );
  });

  router.post('/invitations/:token', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    const parsed = answerSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(messagePage('Choose Yes or No', 'Pick Yes or No, then select Next.'));
    const { rel, invitation } = found;
    const actor = { type: 'customer' as const, id: rel.tenant.adminEmail };
    const answer =
      parsed.data.choice === 'yes'
        ? { accept: true as const, startTrial: parsed.data.startTrial === 'yes' }
        : { accept: false as const, ...(parsed.data.reason ? { reason: parsed.data.reason } : {}) };
    try {
      const state = await relationships.answerInvitation(rel.workflowId, invitation.id, actor, answer);
      deps.log.info({ event: 'invitation.answered', relationshipId: rel.id, workflowId: rel.workflowId, status: state.status }, 'invitation answered');
      return res.send(answer.accept ? acceptedPage(rel.partner.name, state.trial && state.trial.status === 'pending' ? state.trial : null) : declinedPage(rel.partner.name));
    } catch (err) {
      const refusal = stepRefusalOf(err);
      if (refusal) return res.status(410).send(linkProblemPage(refusalToProblem[refusal.reason] ?? 'used'));
      throw err;
    }
  });

  function requireSession(req: Request): CustomerSession | undefined {
    return readSession(req);
  }

  function checkCsrf(req: Request, session: CustomerSession): void {
    const sent = (req.body as { csrf?: unknown } | undefined)?.csrf;
    if (typeof sent !== 'string' || !constantTimeEqual(sent, session.csrf)) {
      throw new AppError('forbidden', 'The form expired; reload the page and try again.');
    }
  }

  router.get('/partner-relationships', async (req, res) => {
    const session = requireSession(req);
    if (!session) return res.send(signInPage());
    const filter = z.enum(['active', 'ended', 'all']).catch('active').parse(req.query.filter);
    const rows = await db.relationship.findMany({
      where: { tenantDomain: session.tenant, status: { not: 'invited' } },
      include: { partner: true },
      orderBy: { createdAt: 'desc' },
    });
    const shown = rows.filter((r) => filter === 'all' || (filter === 'ended') === isEnded(r.status as never));
    res.send(
      partnerListPage(
        session.tenant,
        shown.map((r) => ({
          id: r.id,
          partnerName: r.partner.name,
          status: r.status,
          roles: r.roles,
          since: r.activatedAt ?? r.acceptedAt,
          ends: r.endedAt ?? r.endsAt,
          removable: ['accepted', 'provisioning', 'active'].includes(r.status),
        })),
        filter,
        session.csrf,
      ),
    );
  });

  router.post('/sign-in', async (req, res) => {
    const parsed = signInSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(signInPage('Enter your organisation domain and a valid email address.'));
    const { tenantDomain, email } = parsed.data;
    const tenant = await db.tenant.findUnique({ where: { domain: tenantDomain } });
    if (tenant && tenant.adminEmail.toLowerCase() === email.toLowerCase()) {
      const token = newToken();
      const expiresAt = new Date(Date.now() + SIGN_IN_TTL_MS);
      const row = await db.signInToken.create({ data: { tokenHash: hashToken(token), tenantDomain, email: tenant.adminEmail, expiresAt } });
      await deps.mail.enqueue(`signin-${row.id}`, {
        template: 'signIn',
        to: tenant.adminEmail,
        data: {
          customerName: tenant.name ?? tenant.domain,
          tenantDomain,
          signInUrl: new URL(`/sign-in/${token}`, deps.publicBaseUrl).toString(),
          expiresAt: expiresAt.toISOString(),
        },
      });
    }
    // The same answer either way: the page must not reveal who administers which tenant.
    res.send(signInPage('If that address is the admin of that organisation, a sign-in link is on its way. It works once, for 15 minutes.'));
  });

  router.get('/sign-in/:token', async (req, res) => {
    const tokenHash = hashToken(req.params.token);
    // Marking it used in the same statement makes the link single-use even under a double click.
    const used = await db.signInToken.updateMany({
      where: { tokenHash, usedAt: null, expiresAt: { gt: new Date() } },
      data: { usedAt: new Date() },
    });
    const row = used.count === 1 ? await db.signInToken.findUnique({ where: { tokenHash } }) : null;
    if (!row) return res.status(410).send(signInPage('That sign-in link is expired or was already used. Ask for a new one.'));
    startSession(res, row.tenantDomain, row.email, secureCookies);
    res.redirect(303, '/partner-relationships');
  });

  router.post('/sign-out', (req, res) => {
    const session = requireSession(req);
    if (session) checkCsrf(req, session);
    endSession(res);
    res.redirect(303, '/partner-relationships');
  });

  router.post('/partner-relationships/:id/delete', async (req, res) => {
    const session = requireSession(req);
    if (!session) return res.status(401).send(signInPage('Your session ended; sign in again.'));
    checkCsrf(req, session);
    const rel = await db.relationship.findFirst({ where: { id: req.params.id, tenantDomain: session.tenant }, include: { partner: true } });
    if (!rel) return res.status(404).send(messagePage('Not found', 'No such partner relationship for your organisation.'));
    res.send(confirmDeletePage(rel.id, rel.partner.name, session.csrf));
  });

  router.post('/partner-relationships/:id/delete/confirm', async (req, res) => {
    const session = requireSession(req);
    if (!session) return res.status(401).send(signInPage('Your session ended; sign in again.'));
    checkCsrf(req, session);
    const rel = await db.relationship.findFirst({ where: { id: req.params.id, tenantDomain: session.tenant }, include: { partner: true } });
    if (!rel) return res.status(404).send(messagePage('Not found', 'No such partner relationship for your organisation.'));
    try {
      await relationships.removeByCustomer(session.tenant, session.email, rel.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'stepRefused') {
        return res.status(409).send(messagePage('Nothing to remove', 'This partner relationship has already ended.'));
      }
      throw err;
    }
    res.send(removedPage(rel.partner.name));
  });

  return router;
}

type AuthorizationTrial = { offer: string; seats: number; days: number } | null;
