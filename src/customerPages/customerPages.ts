import express, { Router, type ErrorRequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import type { RelationshipService } from '../relationships/relationshipService.js';
import type { DomainChallenges } from '../tenants/domainChallenge.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import { retryAfterOf, toAppError } from '../http/errors.js';
import type { RateLimit } from '../http/rateLimits.js';
import { createCustomerSessions } from './customerSession.js';
import { createCustomerSignIn } from './customerSignIn.js';
import { createInvitationAnswers } from './invitationAnswers.js';
import { createInvitationForwarding } from './invitationForwarding.js';
import { invitationLinks } from './invitationLink.js';
import { messagePage } from './pages/invitationPages.js';
import { createPartnerRelationshipsPage } from './partnerRelationshipsPage.js';
import { invitationRoutes } from './routes/invitationRoutes.js';
import { partnerRelationshipRoutes } from './routes/partnerRelationshipRoutes.js';
import { tenantRoutes } from './routes/tenantRoutes.js';
import { createSessionCookie, signedInCustomer } from './sessionCookie.js';
import type { SignInAttempts } from './signInAttempts.js';
import { createSignInLinks } from './signInLinks.js';
import { createTenantAdminsPage } from './tenantAdminsPage.js';
import { createTenantSelfService } from './tenantSelfService.js';

/** What the customer pages need, and the limits of the pages that send email on request. */
export interface CustomerPagesDeps {
  db: Database;
  relationships: RelationshipService;
  tenants: TenantDirectory;
  challenges: DomainChallenges;
  mail: MailOutbox;
  publicBaseUrl: string;
  /** Link tokens are derived from it (see linkTokens.ts); mail jobs carry only a reference. */
  linkSecret: string;
  log: Logger;
  /** Sign-in asks and failed link uses per client. */
  signInAttempts: SignInAttempts;
  /** Sign-in emails per admin address per hour. */
  signInEmailsPerHour: number;
  /** Checked the same way on every sign-in ask, whoever the address is. */
  redis: Redis;
  /** Verification emails per domain (self-service registration). */
  verificationLimit: RateLimit;
  /** Admin invitations per tenant (the admins page), so a session cannot flood inboxes. */
  adminInviteLimit: RateLimit;
}

/** Form bodies of the customer pages are at most this large (413 above it). */
export const FORM_BODY_LIMIT = '16kb';

/**
 * Server-rendered pages reached from email links; they work without JavaScript.
 * The services (one file per concept, beside this one) hold the rules and every
 * database and Redis call; the routes read forms and pick pages.
 */
export function customerPages(deps: CustomerPagesDeps): Router {
  const { db, relationships, tenants, challenges, mail, linkSecret, log } = deps;
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 20 }));

  const sessions = createCustomerSessions(db, tenants);
  const signedIn = signedInCustomer(sessions, createSessionCookie(deps.publicBaseUrl.startsWith('https:')));
  const links = invitationLinks(db);
  const signInLinks = createSignInLinks({ db, tenants, mail, linkSecret, log, emailsPerHour: deps.signInEmailsPerHour });

  router.use(
    invitationRoutes({
      invitations: createInvitationAnswers({ links, relationships, challenges, log }),
      forwarding: createInvitationForwarding({ db, links, tenants, mail, linkSecret, log }),
    }),
  );
  router.use(
    partnerRelationshipRoutes({
      signedIn,
      signIn: createCustomerSignIn({ attempts: deps.signInAttempts, links: signInLinks, sessions, redis: deps.redis, log }),
      partners: createPartnerRelationshipsPage({ db, relationships }),
    }),
  );
  router.use(
    tenantRoutes({
      signedIn,
      selfService: createTenantSelfService({ db, challenges, mail, log, verificationLimit: deps.verificationLimit }),
      admins: createTenantAdminsPage({ tenants, mail, log, inviteLimit: deps.adminInviteLimit }),
    }),
  );
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
      // Something removed meanwhile (a tenant, a relationship): say so, not "went wrong".
      notFound: ['Not found', 'There is nothing here any more. It may have been removed a moment ago.'],
      rateLimited: ['Too many requests', 'Please wait a little and try again.'],
    };
    const [title, text] = pages[error.code] ?? ['Something went wrong', 'Please try again in a moment.'];
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    res.status(error.status).send(messagePage(title, text));
  };
}
