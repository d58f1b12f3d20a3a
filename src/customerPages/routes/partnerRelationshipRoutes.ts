import { Router, type Request, type Response } from 'express';
import { sendNdjson } from '../../audit/auditExport.js';
import { retryAfterOf, type AppError } from '../../http/errors.js';
import { relationshipIdSchema } from '../../relationships/relationshipSchemas.js';
import type { CustomerSignIn } from '../customerSignIn.js';
import { partnerListQuerySchema, signInFormSchema } from '../formSchemas.js';
import { messagePage } from '../pages/invitationPages.js';
import {
  confirmDeletePage,
  partnerListPage,
  removedPage,
  signInConfirmPage,
  signInPage,
  type SignInField,
  type SignInMessage,
} from '../pages/partnerRelationshipPages.js';
import type { PartnerRelationshipsPage } from '../partnerRelationshipsPage.js';
import type { SignedInCustomer } from '../sessionCookie.js';

export interface PartnerRelationshipRoutesDeps {
  signedIn: SignedInCustomer;
  signIn: CustomerSignIn;
  partners: PartnerRelationshipsPage;
}

// One answer for every address, including "a link was sent a moment ago": the page must not
// reveal who administers which tenant.
const SIGN_IN_ASKED: SignInMessage = {
  kind: 'notice',
  title: 'Sign-in link sent',
  text: 'If that address is an admin of that organisation, a sign-in link is on its way. It works once, for 15 minutes. If you asked a moment ago, use the link from that email.',
};
const LINK_DEAD: SignInMessage = {
  kind: 'error',
  title: 'Sign-in link no longer works',
  text: 'That sign-in link is expired or was already used. Ask for a new one.',
};
const SESSION_ENDED: SignInMessage = { kind: 'notice', title: 'Session ended', text: 'Your session ended; sign in again.' };

/**
 * Partner relationships: sign-in by an emailed one-time link, the list, and
 * Delete → Yes. The rules are in customerSignIn.ts and partnerRelationshipsPage.ts;
 * these handlers read the form, call one of them and pick the page.
 */
export function partnerRelationshipRoutes(deps: PartnerRelationshipRoutesDeps): Router {
  const { signedIn, signIn, partners } = deps;
  const router = Router();

  router.get('/partner-relationships', async (req, res) => {
    const current = await signedIn.currentAdmin(req, res);
    if (!current) return res.send(signInPage());
    const filter = partnerListQuerySchema.catch({ filter: 'active' }).parse(req.query).filter;
    const rows = await partners.list(current, filter);
    res.setHeader('Cache-Control', 'no-store');
    res.send(partnerListPage(current.tenant, rows, filter, current.csrf));
  });

  // The signed-in admin's own tenant only: the session decides the chain, nothing in the request does.
  router.get('/partner-relationships/audit-log', async (req, res) => {
    const current = await signedIn.currentAdmin(req, res);
    if (!current) return res.status(401).send(signInPage(SESSION_ENDED));
    await sendNdjson(res, `audit-${current.tenant}.ndjson`, partners.auditLog(current));
  });

  router.post('/sign-in', async (req, res) => {
    const parsed = signInFormSchema.safeParse(req.body);
    if (!parsed.success) {
      const invalidFields = parsed.error.issues.map((issue) => issue.path[0]).filter((field): field is SignInField => field === 'tenantDomain' || field === 'email');
      return res.status(400).send(signInPage({ kind: 'error', title: 'Error: Sign in', text: 'Enter your organisation domain and a valid email address.', invalidFields }));
    }
    const asked = await signIn.ask(req, parsed.data.tenantDomain, parsed.data.email);
    if (asked.outcome === 'limited') return sendLimited(res, asked.refusal);
    // The one answer for every address goes out first; only then is the directory read.
    res.send(signInPage(SIGN_IN_ASKED));
    asked.sendLinkIfAdmin();
  });

  // GET only shows what the link would do: a mail scanner that prefetches it uses nothing up.
  router.get('/sign-in/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const opened = await signIn.openLink(req, req.params.token);
    if (opened.outcome === 'limited') return sendLimited(res, opened.refusal);
    if (opened.outcome === 'dead') return res.status(410).send(signInPage(LINK_DEAD));
    res.send(signInConfirmPage(opened.link));
  });

  router.post('/sign-in/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const redeemed = await signIn.redeemLink(req, req.params.token, signedIn.cookie.idOf(req));
    if (redeemed.outcome === 'limited') return sendLimited(res, redeemed.refusal);
    if (redeemed.outcome === 'dead') return res.status(410).send(signInPage(LINK_DEAD));
    signedIn.cookie.set(res, redeemed.sessionId);
    res.redirect(303, '/partner-relationships');
  });

  router.post('/sign-out', async (req, res) => {
    await signedIn.signOut(req, res);
    res.redirect(303, '/partner-relationships');
  });

  /** The 429 page of a client that has used up its sign-in attempts. */
  function sendLimited(res: Response, refusal: AppError) {
    const retryAfter = retryAfterOf(refusal);
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    res.status(429).send(signInPage({ kind: 'error', title: 'Too many sign-in attempts', text: `${refusal.message} Links you already have keep working on other networks.` }));
  }

  /** The signed-in admin whose form carries the session's CSRF token, or undefined with the 401 page sent. */
  async function signedInPost(req: Request, res: Response) {
    const current = await signedIn.currentAdmin(req, res);
    if (!current) {
      res.status(401).send(signInPage(SESSION_ENDED));
      return undefined;
    }
    signedIn.checkCsrf(req, current);
    return current;
  }

  // Another tenant's relationship is "not found" for this customer, exactly like a missing one.
  const sendNotFound = (res: Response) => res.status(404).send(messagePage('Not found', 'No such partner relationship for your organisation.'));

  router.post('/partner-relationships/:id/delete', async (req, res) => {
    const current = await signedInPost(req, res);
    if (!current) return;
    const id = relationshipIdSchema.safeParse(req.params.id);
    const rel = id.success ? await partners.find(current, id.data) : null;
    if (!rel) return sendNotFound(res);
    res.send(confirmDeletePage(rel.id, rel.partnerName, current.csrf));
  });

  router.post('/partner-relationships/:id/delete/confirm', async (req, res) => {
    const current = await signedInPost(req, res);
    if (!current) return;
    const id = relationshipIdSchema.safeParse(req.params.id);
    if (!id.success) return sendNotFound(res);
    const removed = await partners.remove(current, id.data);
    if (removed.outcome === 'notFound') return sendNotFound(res);
    if (removed.outcome === 'alreadyEnded') return res.status(409).send(messagePage('Nothing to remove', 'This partner relationship has already ended.'));
    res.send(removedPage(removed.partnerName));
  });

  return router;
}
