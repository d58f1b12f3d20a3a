import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import { isEnded, liveAfterAcceptance, type RelationshipStatus } from '../../contract/statuses.js';
import type { Database } from '../../infra/database.js';
import type { Logger } from '../../infra/logger.js';
import { constantTimeEqual, hashToken, newToken } from '../../infra/tokens.js';
import type { MailOutbox } from '../../mail/mailOutbox.js';
import { sessionCookies, type CustomerSession } from '../customerSession.js';
import { AppError, toAppError } from '../errors.js';
import {
  acceptedPage,
  authorizationPage,
  declinedPage,
  linkProblemPage,
  messagePage,
  trialPage,
  type AuthorizationView,
  type LinkProblem,
} from '../pages/invitationPages.js';
import { confirmDeletePage, partnerListPage, removedPage, signInPage } from '../pages/partnerRelationshipPages.js';
import type { RateLimit } from '../rateLimits.js';
import { withRedis } from '../redisAvailability.js';
import type { RelationshipService } from '../relationshipService.js';
import { csrfFormSchema, invitationAnswerFormSchema, partnerListQuerySchema, relationshipIdSchema, signInFormSchema } from '../schemas.js';
import { stepRefusalOf } from '../temporalErrors.js';
import { storedPolicy, storedTrialOffer } from '../../infra/storedOffer.js';

export interface CustomerPagesDeps {
  db: Database;
  relationships: RelationshipService;
  mail: MailOutbox;
  publicBaseUrl: string;
  log: Logger;
  /** Sign-in emails per organisation. */
  signInLimit: RateLimit;
}

/** Form bodies of the customer pages are at most this large (413 above it). */
export const FORM_BODY_LIMIT = '16kb';
const SIGN_IN_TTL_MS = 15 * 60_000;

const refusalToProblem: Record<string, LinkProblem> = {
  invitationExpired: 'expired',
  invitationUsed: 'used',
  invitationSuperseded: 'superseded',
  alreadyEnded: 'used',
};

/**
 * Server-rendered pages reached from email links; they work without JavaScript.
 *
 * CSRF: forms of a signed-in customer carry the session's CSRF token (checked
 * in `checkCsrf`). The invitation form carries none on purpose: it acts only
 * through the 256-bit single-use token in its own address, which another site
 * cannot know, so it cannot forge that post; the token *is* the capability.
 * The sign-in form acts on nobody's session: at worst it emails the real
 * admin a link, and that is rate limited per organisation.
 */
export function customerPages(deps: CustomerPagesDeps): Router {
  const { db, relationships, log } = deps;
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 20 }));
  const session = sessionCookies(deps.publicBaseUrl.startsWith('https:'));

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

  type OpenInvitation = Extract<Awaited<ReturnType<typeof openInvitation>>, { problem: null }>;

  function authorizationView(token: string, { rel, invitation }: OpenInvitation): AuthorizationView {
    const policy = storedPolicy(rel.policy);
    return {
      token,
      partnerName: rel.partner.name,
      partnerContactEmail: rel.partner.contactEmail,
      customerName: rel.tenant.name ?? rel.tenantDomain,
      roles: rel.roles,
      terms: rel.terms,
      durationMs: policy.durationMs ?? null,
      autoExtend: rel.autoExtend,
      trial: storedTrialOffer(rel.trialOffer),
      expiresAt: invitation.expiresAt,
    };
  }

  router.get('/invitations/:token', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    res.send(authorizationPage(authorizationView(req.params.token, found)));
  });

  // Yes → Next accepts at once, or (with a trial offered) first shows the trial
  // step, whose buttons accept with or without the trial. The workflow's
  // `accept` carries startTrial, so the accept is sent once, with the choice.
  router.post('/invitations/:token', async (req, res) => {
    const found = await openInvitation(req.params.token);
    if (found.problem) return res.status(found.problem === 'unknown' ? 404 : 410).send(linkProblemPage(found.problem));
    const view = authorizationView(req.params.token, found);
    const parsed = invitationAnswerFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(authorizationPage(view, 'Choose Yes or No, then select Next.'));
    const { rel, invitation } = found;
    const form = parsed.data;
    if (form.choice === 'yes' && view.trial && form.trial === undefined) {
      return res.send(trialPage({ token: view.token, partnerName: view.partnerName, trial: view.trial }));
    }
    const actor = { type: 'customer' as const, id: rel.tenant.adminEmail };
    const startTrial = Boolean(view.trial) && form.trial === 'start';
    const answer =
      form.choice === 'yes' ? { accept: true as const, startTrial } : { accept: false as const, ...(form.reason ? { reason: form.reason } : {}) };
    try {
      const state = await relationships.answerInvitation(rel.workflowId, invitation.id, actor, answer);
      log.info({ event: 'invitation.answered', relationshipId: rel.id, workflowId: rel.workflowId, status: state.status, startTrial }, 'invitation answered');
      return res.send(answer.accept ? acceptedPage(rel.partner.name, startTrial ? view.trial : null) : declinedPage(rel.partner.name));
    } catch (err) {
      const refusal = stepRefusalOf(err);
      if (refusal) return res.status(410).send(linkProblemPage(refusalToProblem[refusal.reason] ?? 'used'));
      throw err;
    }
  });

  function checkCsrf(req: Request, current: CustomerSession): void {
    const parsed = csrfFormSchema.safeParse(req.body);
    if (!parsed.success || !constantTimeEqual(parsed.data.csrf, current.csrf)) {
      throw new AppError('forbidden', 'The form expired; reload the page and try again.');
    }
  }

  router.get('/partner-relationships', async (req, res) => {
    const current = session.read(req);
    if (!current) return res.send(signInPage());
    const filter = partnerListQuerySchema.catch({ filter: 'active' }).parse(req.query).filter;
    const rows = await db.relationship.findMany({
      where: { tenantDomain: current.tenant, status: { not: 'invited' } },
      include: { partner: true },
      orderBy: { createdAt: 'desc' },
    });
    const shown = rows.filter((r) => filter === 'all' || (filter === 'ended') === isEnded(r.status as RelationshipStatus));
    res.setHeader('Cache-Control', 'no-store');
    res.send(
      partnerListPage(
        current.tenant,
        shown.map((r) => ({
          id: r.id,
          partnerName: r.partner.name,
          status: r.status,
          roles: r.roles,
          since: r.activatedAt ?? r.acceptedAt,
          ends: r.endedAt ?? r.endsAt,
          removable: liveAfterAcceptance.includes(r.status as RelationshipStatus),
        })),
        filter,
        current.csrf,
      ),
    );
  });

  router.post('/sign-in', async (req, res) => {
    const parsed = signInFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(signInPage('Enter your organisation domain and a valid email address.'));
    const { tenantDomain, email } = parsed.data;
    try {
      await deps.signInLimit.consume(tenantDomain);
    } catch (err) {
      const limited = toAppError(err);
      if (limited.code !== 'rateLimited') throw err;
      return res.status(429).send(signInPage('Too many sign-in links were asked for this organisation. Try again in an hour.'));
    }
    const tenant = await db.tenant.findUnique({ where: { domain: tenantDomain } });
    if (tenant && tenant.adminEmail.toLowerCase() === email.toLowerCase()) {
      const token = newToken();
      const expiresAt = new Date(Date.now() + SIGN_IN_TTL_MS);
      const row = await db.signInToken.create({ data: { tokenHash: hashToken(token), tenantDomain, email: tenant.adminEmail, expiresAt } });
      const job = {
        template: 'signIn' as const,
        to: tenant.adminEmail,
        data: {
          customerName: tenant.name ?? tenant.domain,
          tenantDomain,
          signInUrl: new URL(`/sign-in/${token}`, deps.publicBaseUrl).toString(),
          expiresAt: expiresAt.toISOString(),
        },
      };
      await withRedis('send the sign-in email', () => deps.mail.enqueue(`signin-${row.id}`, job), 3_000);
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
    session.start(res, row.tenantDomain, row.email);
    log.info({ event: 'customer.signed_in', tenant: row.tenantDomain }, 'customer signed in');
    res.redirect(303, '/partner-relationships');
  });

  router.post('/sign-out', (req, res) => {
    const current = session.read(req);
    if (current) checkCsrf(req, current);
    session.end(res);
    res.redirect(303, '/partner-relationships');
  });

  /** The signed-in customer's relationship `id`, or why not (as a page to send). */
  async function ownRelationship(req: Request<{ id: string }>) {
    const current = session.read(req);
    if (!current) return { status: 401, page: signInPage('Your session ended; sign in again.') } as const;
    checkCsrf(req, current);
    const id = relationshipIdSchema.safeParse(req.params.id);
    // Another tenant's relationship is "not found" for this customer, exactly like a missing one.
    const rel = id.success
      ? await db.relationship.findFirst({ where: { id: id.data, tenantDomain: current.tenant }, include: { partner: true } })
      : null;
    if (!rel) return { status: 404, page: messagePage('Not found', 'No such partner relationship for your organisation.') } as const;
    return { status: 200, current, rel } as const;
  }

  router.post('/partner-relationships/:id/delete', async (req, res) => {
    const own = await ownRelationship(req);
    if (own.status !== 200) return res.status(own.status).send(own.page);
    res.send(confirmDeletePage(own.rel.id, own.rel.partner.name, own.current.csrf));
  });

  router.post('/partner-relationships/:id/delete/confirm', async (req, res) => {
    const own = await ownRelationship(req);
    if (own.status !== 200) return res.status(own.status).send(own.page);
    try {
      await relationships.removeByCustomer(own.current.tenant, own.current.email, own.rel.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'stepRefused') {
        return res.status(409).send(messagePage('Nothing to remove', 'This partner relationship has already ended.'));
      }
      throw err;
    }
    res.send(removedPage(own.rel.partner.name));
  });

  return router;
}

/** Errors on customer pages become readable pages; never a stack trace or an internal message. */
export function customerPageErrors(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = toAppError(err);
    if (error.status >= 500 && error.code !== 'unavailable') log.error({ event: 'page.error', err, path: req.path }, 'page failed');
    if (res.headersSent) return req.socket.destroy();
    const pages: Partial<Record<typeof error.code, [string, string]>> = {
      validation: ['That did not work', 'The form was not complete. Go back and try again.'],
      forbidden: ['Not allowed', error.message],
      payloadTooLarge: ['That did not work', 'The form was larger than allowed. Go back and try again.'],
      unsupportedMediaType: ['That did not work', 'The form was sent in a way we do not understand. Go back and try again.'],
      unavailable: ['Please try again in a moment', 'A service we need is not answering right now. Nothing was changed.'],
    };
    const [title, text] = pages[error.code] ?? ['Something went wrong', 'Please try again in a moment.'];
    res.status(error.status).send(messagePage(title, text));
  };
}
