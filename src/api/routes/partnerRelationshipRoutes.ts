import { Router, type Request, type Response } from 'express';
import { isEnded, liveAfterAcceptance, type RelationshipStatus } from '../../contract/statuses.js';
import type { Database } from '../../infra/database.js';
import type { Logger } from '../../infra/logger.js';
import { linkFor } from '../../infra/linkTokens.js';
import { hashToken } from '../../infra/tokens.js';
import type { MailOutbox } from '../../mail/mailOutbox.js';
import type { TenantDirectory } from '../../tenants/tenantDirectory.js';
import { checkCsrf, signedInAdmin, type SessionCookies } from '../customerSession.js';
import { AppError, toAppError } from '../errors.js';
import { messagePage } from '../pages/invitationPages.js';
import { confirmDeletePage, partnerListPage, removedPage, signInPage } from '../pages/partnerRelationshipPages.js';
import type { RateLimit } from '../rateLimits.js';
import { withRedis } from '../redisAvailability.js';
import type { RelationshipService } from '../relationshipService.js';
import { partnerListQuerySchema, relationshipIdSchema, signInFormSchema } from '../schemas.js';

export interface PartnerRelationshipRoutesDeps {
  db: Database;
  relationships: RelationshipService;
  tenants: TenantDirectory;
  session: SessionCookies;
  mail: MailOutbox;
  publicBaseUrl: string;
  /** The sign-in link's token is derived from it when the email is rendered (issue 10: no raw token in Redis). */
  linkSecret: string;
  log: Logger;
  /** Sign-in emails per organisation. */
  signInLimit: RateLimit;
}

const SIGN_IN_TTL_MS = 15 * 60_000;

/**
 * Partner relationships: sign-in by an emailed one-time link, the list, and
 * Delete → Yes. Only a verified admin of the tenant gets a link, and the
 * session counts only while its address is still an admin (see signedInAdmin).
 * The sign-in form acts on nobody's session: at worst it emails a real admin a
 * link, and that is rate limited per organisation.
 */
export function partnerRelationshipRoutes(deps: PartnerRelationshipRoutesDeps): Router {
  const { db, relationships, tenants, session, log } = deps;
  const router = Router();
  const currentAdmin = (req: Request, res: Response) => signedInAdmin(session, tenants, req, res);

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
    try {
      await deps.signInLimit.consume(tenantDomain);
    } catch (err) {
      const limited = toAppError(err);
      if (limited.code !== 'rateLimited') throw err;
      return res.status(429).send(signInPage('Too many sign-in links were asked for this organisation. Try again in an hour.'));
    }
    const tenant = await db.tenant.findUnique({ where: { domain: tenantDomain } });
    if (tenant && (await tenants.isAdmin(tenantDomain, email))) {
      // The job carries a reference to the link; the mail worker derives the token as it renders.
      const link = linkFor(deps.linkSecret, 'signIn');
      const expiresAt = new Date(Date.now() + SIGN_IN_TTL_MS);
      const row = await db.signInToken.create({ data: { id: link.id, tokenHash: link.tokenHash, tenantDomain, email, expiresAt } });
      const job = {
        template: 'signIn' as const,
        to: email,
        link: link.ref,
        data: { customerName: tenant.name, tenantDomain, expiresAt: expiresAt.toISOString() },
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
    // An admin removed after the link was sent gets nothing from it.
    if (!row || !(await tenants.isAdmin(row.tenantDomain, row.email))) {
      return res.status(410).send(signInPage('That sign-in link is expired or was already used. Ask for a new one.'));
    }
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
