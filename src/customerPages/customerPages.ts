import express, { Router, type ErrorRequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import { sessionCookies } from './customerSession.js';
import { toAppError } from '../http/errors.js';
import { messagePage } from './pages/invitationPages.js';
import type { RateLimit } from '../http/rateLimits.js';
import type { SignInAttempts } from './signInAttempts.js';
import { invitationRoutes, type InvitationRoutesDeps } from './routes/invitationRoutes.js';
import { partnerRelationshipRoutes } from './routes/partnerRelationshipRoutes.js';
import { tenantRoutes } from './routes/tenantRoutes.js';

/** What the invitation pages need, and the limits of the pages that send email on request. */
export interface CustomerPagesDeps extends InvitationRoutesDeps {
  /** Sign-in asks and failed link uses per client. */
  signInAttempts: SignInAttempts;
  /** Sign-in emails per admin address per hour. */
  signInEmailsPerHour: number;
  /** Checked the same way on every sign-in ask, whoever the address is. */
  redis: Redis;
  /** Verification emails per domain (self-service registration). */
  verificationLimit: RateLimit;
}

/** Form bodies of the customer pages are at most this large (413 above it). */
export const FORM_BODY_LIMIT = '16kb';

/** Server-rendered pages reached from email links; they work without JavaScript. */
export function customerPages(deps: CustomerPagesDeps): Router {
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 20 }));
  const session = sessionCookies(deps.db, deps.publicBaseUrl.startsWith('https:'));
  router.use(invitationRoutes(deps));
  router.use(partnerRelationshipRoutes({ ...deps, session }));
  router.use(tenantRoutes({ ...deps, session }));
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
