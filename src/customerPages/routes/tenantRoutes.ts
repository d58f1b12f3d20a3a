import { Router, type Request, type Response } from 'express';
import type { Logger } from '../../infra/logger.js';
import type { MailOutbox } from '../../mail/mailOutbox.js';
import type { TenantDirectory } from '../../tenants/tenantDirectory.js';
import type { CustomerSession } from '../customerSession.js';
import { AppError, toAppError } from '../../http/errors.js';
import { withRedis } from '../../http/redisAvailability.js';
import { adminEmailFormSchema, newTenantFormSchema, verifyDomainFormSchema } from '../formSchemas.js';
import { signInPage } from '../pages/partnerRelationshipPages.js';
import {
  adminConfirmedPage,
  adminInviteProblemPage,
  adminsPage,
  challengePage,
  challengeProblemPage,
  confirmAdminPage,
  newTenantPage,
  tenantRegisteredPage,
  verificationSentPage,
  type ChallengeProblemPage,
} from '../pages/tenantPages.js';
import type { SignedInCustomer } from '../sessionCookie.js';
import type { TenantSelfService } from '../tenantSelfService.js';

export interface TenantRoutesDeps {
  signedIn: SignedInCustomer;
  selfService: TenantSelfService;
  tenants: TenantDirectory;
  mail: MailOutbox;
  log: Logger;
}

const fieldOf = (body: unknown, name: string) => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
};

/** A verification link we do not know is 404; one that no longer works is 410. */
const sendChallengeProblem = (res: Response, problem: ChallengeProblemPage) =>
  res.status(problem === 'unknown' ? 404 : 410).send(challengeProblemPage(problem));

/**
 * Self-service registration (/tenants/new → emailed link → TXT record → Verify;
 * rules in tenantSelfService.ts) and the admins of a tenant as a signed-in
 * admin manages them (/tenant-admins). Links in emails open pages; only a
 * button (POST) changes anything.
 */
export function tenantRoutes(deps: TenantRoutesDeps): Router {
  const { signedIn, selfService, tenants, log } = deps;
  const router = Router();

  router.get('/tenants/new', (_req, res) => {
    res.send(newTenantPage());
  });

  // The same answer for every domain, registered or not: the page reveals nothing about the directory.
  router.post('/tenants/new', async (req, res) => {
    const parsed = newTenantFormSchema.safeParse(req.body);
    const values = { tenantDomain: fieldOf(req.body, 'tenantDomain'), name: fieldOf(req.body, 'name'), email: fieldOf(req.body, 'email') };
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = { tenantDomain: 'Domain', name: 'Organisation name', email: 'Email address' }[String(issue?.path[0])] ?? 'The form';
      return res.status(400).send(newTenantPage(values, `${field} ${issue?.message ?? 'is not valid'}.`));
    }
    if ((await selfService.askVerification(parsed.data)) === 'limited') {
      return res.status(429).send(newTenantPage(values, 'Too many verification emails were asked for this domain. Try again in an hour.'));
    }
    res.send(verificationSentPage(parsed.data.email));
  });

  /** The invitation token the verification came from (a hidden field, or the query on the first visit). */
  function invitationTokenOf(req: Request) {
    const invitation = verifyDomainFormSchema.safeParse({ invitation: fieldOf(req.body, 'invitation') ?? req.query.invitation });
    return invitation.success ? invitation.data.invitation : undefined;
  }

  router.get('/tenants/verify/:token', async (req, res) => {
    const opened = await selfService.openChallenge(req.params.token);
    if (opened.problem) return sendChallengeProblem(res, opened.problem);
    // Before the view is read: even a page that fails from here on is not cached.
    res.setHeader('Cache-Control', 'no-store');
    res.send(challengePage(await selfService.viewOf(req.params.token, opened.challenge, invitationTokenOf(req))));
  });

  router.post('/tenants/verify/:token', async (req, res) => {
    const verified = await selfService.verifyChallenge(req.params.token, invitationTokenOf(req));
    if (verified.problem) return sendChallengeProblem(res, verified.problem);
    const { view, invitationPath, result } = verified;
    switch (result.outcome) {
      case 'verified':
        return res.send(tenantRegisteredPage({ domain: result.domain, email: result.email, ...(invitationPath ? { invitationPath } : {}) }));
      case 'refused':
        return sendChallengeProblem(res, result.problem);
      case 'missing':
        return res.status(422).send(challengePage(view, { kind: 'missing' }));
      case 'mismatch':
        return res.status(422).send(challengePage(view, { kind: 'mismatch', found: result.found, stale: result.stale }));
      case 'unavailable':
        return res.status(503).send(challengePage(view, { kind: 'unavailable' }));
    }
  });

  // --- admins of a tenant, as its signed-in admins manage them ---

  async function adminsView(current: CustomerSession) {
    const tenant = await tenants.get(current.tenant);
    if (!tenant) throw new AppError('notFound', 'No such organisation.');
    return { tenantName: tenant.name, domain: tenant.domain, me: current.email, admins: tenant.admins.map((a) => a.email), csrf: current.csrf };
  }

  async function requireAdmin(req: Request, res: Response) {
    const current = await signedIn.currentAdmin(req, res);
    if (!current) res.status(401).send(signInPage('Sign in as an admin of your organisation first.'));
    return current;
  }

  router.get('/tenant-admins', async (req, res) => {
    const current = await requireAdmin(req, res);
    if (!current) return;
    res.setHeader('Cache-Control', 'no-store');
    res.send(adminsPage(await adminsView(current)));
  });

  router.post('/tenant-admins', async (req, res) => {
    const current = await requireAdmin(req, res);
    if (!current) return;
    signedIn.checkCsrf(req, current);
    const parsed = adminEmailFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(adminsPage(await adminsView(current), { kind: 'error', text: 'Enter a valid email address.' }));
    const { email } = parsed.data;
    if (await tenants.isAdmin(current.tenant, email)) {
      return res.send(adminsPage(await adminsView(current), { kind: 'notice', text: `${email} is already an admin.` }));
    }
    const { link, invite } = await tenants.inviteAdmin(current.tenant, email, current.email);
    const view = await adminsView(current);
    const job = {
      template: 'adminInvitation' as const,
      to: email,
      link,
      data: { customerName: view.tenantName, tenantDomain: view.domain, invitedBy: current.email, expiresAt: invite.expiresAt.toISOString() },
    };
    await withRedis('send the invitation', () => deps.mail.enqueue(`admin-invite-${invite.id}`, job), 3_000);
    log.info({ event: 'tenant.admin_invited', tenant: current.tenant }, 'admin invited');
    res.send(adminsPage(view, { kind: 'notice', text: `We emailed ${email} a link. They become an admin when they confirm.` }));
  });

  router.post('/tenant-admins/remove', async (req, res) => {
    const current = await requireAdmin(req, res);
    if (!current) return;
    signedIn.checkCsrf(req, current);
    const parsed = adminEmailFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(adminsPage(await adminsView(current), { kind: 'error', text: 'Choose an admin to remove.' }));
    const { email } = parsed.data;
    try {
      await tenants.removeAdmin(current.tenant, email, { type: 'customer', id: current.email });
    } catch (err) {
      const error = toAppError(err);
      if (error.code !== 'conflict' && error.code !== 'notFound') throw err;
      return res.status(error.status).send(adminsPage(await adminsView(current), { kind: 'error', text: error.message }));
    }
    log.info({ event: 'tenant.admin_removed', tenant: current.tenant }, 'admin removed');
    if (email === current.email) {
      signedIn.cookie.clear(res);
      return res.send(signInPage('You removed yourself as an admin and were signed out.'));
    }
    res.send(adminsPage(await adminsView(current), { kind: 'notice', text: `${email} is no longer an admin.` }));
  });

  router.get('/tenant-admins/confirm/:token', async (req, res) => {
    const opened = await tenants.openAdminInvite(req.params.token);
    if (opened.problem) return res.status(opened.problem === 'unknown' ? 404 : 410).send(adminInviteProblemPage(opened.problem));
    res.send(confirmAdminPage({ token: req.params.token, tenantName: opened.tenant.name, domain: opened.tenant.domain, email: opened.invite.email }));
  });

  router.post('/tenant-admins/confirm/:token', async (req, res) => {
    const confirmed = await tenants.confirmAdminInvite(req.params.token);
    if (confirmed.problem) return res.status(confirmed.problem === 'unknown' ? 404 : 410).send(adminInviteProblemPage(confirmed.problem));
    log.info({ event: 'tenant.admin_added', tenant: confirmed.domain }, 'admin confirmed');
    res.send(adminConfirmedPage({ tenantName: confirmed.tenantName, email: confirmed.email }));
  });

  return router;
}
