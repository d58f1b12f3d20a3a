import { Router, type Request, type Response } from 'express';
import { retryAfterOf } from '../../http/errors.js';
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
import type { TenantAdminsPage } from '../tenantAdminsPage.js';
import type { TenantSelfService } from '../tenantSelfService.js';

export interface TenantRoutesDeps {
  signedIn: SignedInCustomer;
  selfService: TenantSelfService;
  admins: TenantAdminsPage;
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
 * admin manages them (/tenant-admins; tenantAdminsPage.ts). Links in emails
 * open pages; only a button (POST) changes anything.
 */
export function tenantRoutes(deps: TenantRoutesDeps): Router {
  const { signedIn, selfService, admins } = deps;
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
      const labels = { tenantDomain: 'Domain', name: 'Organisation name', email: 'Email address' } as const;
      const field = Object.keys(labels).find((key): key is keyof typeof labels => key === issue?.path[0]);
      const text = `${field ? labels[field] : 'The form'} ${issue?.message ?? 'is not valid'}.`;
      return res.status(400).send(newTenantPage(values, field ? { text, field } : { text }));
    }
    if ((await selfService.askVerification(parsed.data)) === 'limited') {
      return res.status(429).send(newTenantPage(values, { text: 'Too many verification emails were asked for this domain. Try again in an hour.' }));
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

  /** The signed-in admin, or undefined with the 401 page sent. */
  async function requireAdmin(req: Request, res: Response) {
    const current = await signedIn.currentAdmin(req, res);
    if (!current) res.status(401).send(signInPage({ kind: 'notice', title: 'Sign in first', text: 'Sign in as an admin of your organisation first.' }));
    return current;
  }

  router.get('/tenant-admins', async (req, res) => {
    const current = await requireAdmin(req, res);
    if (!current) return;
    res.setHeader('Cache-Control', 'no-store');
    res.send(adminsPage(await admins.view(current)));
  });

  router.post('/tenant-admins', async (req, res) => {
    const current = await requireAdmin(req, res);
    if (!current) return;
    signedIn.checkCsrf(req, current);
    const parsed = adminEmailFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(adminsPage(await admins.view(current), { kind: 'error', text: 'Enter a valid email address.', field: 'email' }));
    const { email } = parsed.data;
    const invited = await admins.invite(current, email);
    if (invited.outcome === 'alreadyAdmin') return res.send(adminsPage(invited.view, { kind: 'notice', text: `${email} is already an admin.` }));
    if (invited.outcome === 'limited') {
      const retryAfter = retryAfterOf(invited.refusal);
      if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
      return res.status(429).send(adminsPage(invited.view, { kind: 'error', text: 'Too many admin invitations from your organisation this hour. Try again later.' }));
    }
    res.send(adminsPage(invited.view, { kind: 'notice', text: `We emailed ${email} a link. They become an admin when they confirm.` }));
  });

  router.post('/tenant-admins/remove', async (req, res) => {
    const current = await requireAdmin(req, res);
    if (!current) return;
    signedIn.checkCsrf(req, current);
    const parsed = adminEmailFormSchema.safeParse(req.body);
    if (!parsed.success) return res.status(400).send(adminsPage(await admins.view(current), { kind: 'error', text: 'Choose an admin to remove.' }));
    const { email } = parsed.data;
    const removed = await admins.remove(current, email);
    switch (removed.outcome) {
      case 'refused':
        return res.status(removed.refusal.status).send(adminsPage(removed.view, { kind: 'error', text: removed.refusal.message }));
      case 'removedSelf':
        signedIn.cookie.clear(res);
        return res.send(signInPage({ kind: 'notice', title: 'Signed out', text: 'You removed yourself as an admin and were signed out.' }));
      case 'removed':
        return res.send(adminsPage(removed.view, { kind: 'notice', text: `${email} is no longer an admin.` }));
    }
  });

  router.get('/tenant-admins/confirm/:token', async (req, res) => {
    const opened = await admins.openInvite(req.params.token);
    if (opened.problem) return res.status(opened.problem === 'unknown' ? 404 : 410).send(adminInviteProblemPage(opened.problem));
    res.send(confirmAdminPage({ token: req.params.token, tenantName: opened.tenant.name, domain: opened.tenant.domain, email: opened.invite.email }));
  });

  router.post('/tenant-admins/confirm/:token', async (req, res) => {
    const confirmed = await admins.confirm(req.params.token);
    if (confirmed.problem) return res.status(confirmed.problem === 'unknown' ? 404 : 410).send(adminInviteProblemPage(confirmed.problem));
    res.send(adminConfirmedPage({ tenantName: confirmed.tenantName, email: confirmed.email }));
  });

  return router;
}
