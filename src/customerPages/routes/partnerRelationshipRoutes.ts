import { Router, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { isEnded, liveAfterAcceptance, type RelationshipStatus } from '../../contract/statuses.js';
import type { Database } from '../../infra/database.js';
import type { Logger } from '../../infra/logger.js';
import type { MailOutbox } from '../../mail/mailOutbox.js';
import type { TenantDirectory } from '../../tenants/tenantDirectory.js';
import { checkCsrf, signedInAdmin, type SessionCookies } from '../customerSession.js';
import { AppError, retryAfterOf, toAppError } from '../../http/errors.js';
import { messagePage } from '../pages/invitationPages.js';
import { confirmDeletePage, partnerListPage, removedPage, signInConfirmPage, signInPage } from '../pages/partnerRelationshipPages.js';
import { withRedis } from '../../http/redisAvailability.js';
import type { RelationshipService } from '../../relationships/relationshipService.js';
import { relationshipIdSchema } from '../../relationships/relationshipSchemas.js';
import { partnerListQuerySchema, signInFormSchema } from '../formSchemas.js';
import type { SignInAttempts } from '../signInAttempts.js';
import { createSignInLinks } from '../signInLinks.js';

export interface PartnerRelationshipRoutesDeps {
  db: Database;
  redis: Redis;
  relationships: RelationshipService;
  tenants: TenantDirectory;
  session: SessionCookies;
  mail: MailOutbox;
  publicBaseUrl: string;
  /** The sign-in link's token is derived from it when the email is rendered (issue 10: no raw token in Redis). */
  linkSecret: string;
  log: Logger;
  /** Asks and failed link uses per client (see signInAttempts.ts). */
  signInAttempts: SignInAttempts;
  /** Sign-in emails per admin address per hour (see signInLinks.ts). */
  signInEmailsPerHour: number;
}

// One answer for every address, including "a link was sent a moment ago": the page must not
// reveal who administers which tenant.
const SIGN_IN_ASKED =
  'If that address is an admin of that organisation, a sign-in link is on its way. It works once, for 15 minutes. If you asked a moment ago, use the link from that email.';
const LINK_DEAD = 'That sign-in link is expired or was already used. Ask for a new one.';

/**
 * Partner relationships: sign-in by an emailed one-time link, the list, and
 * Delete → Yes. Only a verified admin of the tenant gets a link, and the
 * session counts only while its address is still an admin (see signedInAdmin).
 * The sign-in form acts on nobody's session: at worst it emails a real admin a
 * link, bounded per address; attempts count per client, so no one else's
 * attempts can lock an admin out.
 */
export function partnerRelationshipRoutes(deps: PartnerRelationshipRoutesDeps): Router {
  const { db, relationships, tenants, session, log } = deps;
  const router = Router();
  const currentAdmin = (req: Request, res: Response) => signedInAdmin(session, tenants, req, res);
  const links = createSignInLinks({ db, tenants, mail: deps.mail, linkSecret: deps.linkSecret, log, emailsPerHour: deps.signInEmailsPerHour });

  router.get('/partner-relationships', async (req, res) => {
    const current = await currentAdmin(req, res);
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
    // Everything on the request path is the same for every address: one attempt counted for this
    // client, one Redis check; the answer is sent before the directory is even read.
    if (!(await countAttempt(req, res))) return;
    await withRedis('send the sign-in email', () => deps.redis.ping());
    res.send(signInPage(SIGN_IN_ASKED));
    links.askInBackground(tenantDomain, email);
  });

  // GET only shows what the link would do: a mail scanner that prefetches it uses nothing up.
  router.get('/sign-in/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!(await attemptsLeft(req, res))) return;
    const link = await links.peek(req.params.token);
    if (!link) {
      if (!(await countAttempt(req, res))) return;
      return res.status(410).send(signInPage(LINK_DEAD));
    }
    res.send(signInConfirmPage(link));
  });

  router.post('/sign-in/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!(await attemptsLeft(req, res))) return;
    const used = await links.use(req.params.token);
    if (!used) {
      if (!(await countAttempt(req, res))) return;
      return res.status(410).send(signInPage(LINK_DEAD));
    }
    await session.start(req, res, used.tenantDomain, used.email);
    log.info({ event: 'customer.signed_in', tenant: used.tenantDomain }, 'customer signed in');
    res.redirect(303, '/partner-relationships');
  });

  router.post('/sign-out', async (req, res) => {
    const current = await session.read(req);
    if (current) checkCsrf(req, current);
    await session.signOut(req, res);
    res.redirect(303, '/partner-relationships');
  });

  /** False (with the 429 page sent) when this client has used up its sign-in attempts. */
  async function attemptsLeft(req: Request, res: Response): Promise<boolean> {
    return refuseWhenLimited(res, () => deps.signInAttempts.check(req));
  }

  async function countAttempt(req: Request, res: Response): Promise<boolean> {
    return refuseWhenLimited(res, () => deps.signInAttempts.count(req));
  }

  async function refuseWhenLimited(res: Response, step: () => Promise<void>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (err) {
      const limited = toAppError(err);
      if (limited.code !== 'rateLimited') throw err;
      const retryAfter = retryAfterOf(limited);
      if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
      res.status(429).send(signInPage(`${limited.message} Links you already have keep working on other networks.`));
      return false;
    }
  }

  /** The signed-in customer's relationship `id`, or why not (as a page to send). */
  async function ownRelationship(req: Request<{ id: string }>, res: Response) {
    const current = await currentAdmin(req, res);
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
    const own = await ownRelationship(req, res);
    if (own.status !== 200) return res.status(own.status).send(own.page);
    res.send(confirmDeletePage(own.rel.id, own.rel.partner.name, own.current.csrf));
  });

  router.post('/partner-relationships/:id/delete/confirm', async (req, res) => {
    const own = await ownRelationship(req, res);
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
