import { Router, type Request } from 'express';
import { roleCatalog } from '../contract/roles.js';
import { anyPrincipalOf, callerScope, principalOf, requirePartner, type KeyHolder } from '../http/auth.js';
import { AppError } from '../http/errors.js';
import { etagOf, notModified } from '../http/conditionalRequests.js';
import type { Idempotency } from '../http/idempotency.js';
import type { RelationshipService } from '../relationships/relationshipService.js';
import { accessQuerySchema, listRelationshipsQuerySchema, reasonBodySchema, relationshipIdSchema, type AccessQuery } from '../relationships/relationshipSchemas.js';

export interface PartnerRoutesDeps {
  relationships: RelationshipService;
  idempotency: Idempotency;
}

/** The access check, relative to /api/v1: the one request an enforcer key may make. */
export const ACCESS_PATH = '/access';

/** Whether a request (under /api/v1) is the access check; the composition root lets enforcer keys make this one alone. */
export const isAccessCheck = (req: Request) => (req.method === 'GET' || req.method === 'HEAD') && req.path.replace(/\/$/, '').toLowerCase() === ACCESS_PATH;

/**
 * Which partner an access question is about, when this caller may ask it.
 * A partner asks about itself (naming itself in `partner` is fine, another
 * partner is 403); an enforcer names the partner (400 without) and asks only
 * in the tenants it is scoped to (403 outside them).
 */
export function accessSubject(caller: KeyHolder, query: AccessQuery): string {
  if (caller.kind === 'partner') {
    if (query.partner !== undefined && query.partner !== caller.partnerId) {
      throw new AppError('forbidden', 'A partner API key may ask only about its own access; leave out partner, or name your own partner id.');
    }
    return caller.partnerId;
  }
  if (query.partner === undefined) {
    throw new AppError('validation', 'An enforcer key must name the partner it asks about.', { errors: [{ path: 'partner', message: 'required with an enforcer key' }] });
  }
  if (caller.tenants !== null && !caller.tenants.includes(query.tenant)) {
    throw new AppError('forbidden', `This enforcer may not ask about tenant ${query.tenant}.`);
  }
  return query.partner;
}

/** The role catalog: public, read before any key is checked. */
export function roleCatalogRoute(): Router {
  const router = Router();
  router.get('/roles', (_req, res) => {
    res.json({ roles: roleCatalog });
  });
  return router;
}

/** What a partner does with its key under /api/v1: offers, their steps, the list, the access check (which enforcers ask too). */
export function partnerRoutes(deps: PartnerRoutesDeps): Router {
  const { relationships, idempotency } = deps;
  const router = Router();

  router.post('/relationships', async (req, res) => {
    const partner = requirePartner(res);
    await idempotency.run(req, res, callerScope(res), async () => {
      const body = relationships.parseOfferRequest(req.body ?? {});
      const relationship = await relationships.createOffer(partner, body);
      return { status: 201, headers: { Location: `/api/v1/relationships/${relationship.id}` }, body: relationship };
    });
  });

  router.get('/relationships', async (req, res) => {
    const filters = listRelationshipsQuerySchema.parse(req.query);
    res.json({ relationships: await relationships.list(principalOf(res), filters) });
  });

  router.get('/relationships/:id', async (req, res) => {
    const relationship = await relationships.get(principalOf(res), relationshipIdSchema.parse(req.params.id));
    const etag = etagOf(relationship);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (notModified(req.get('if-none-match'), etag)) return res.status(304).end();
    res.json(relationship);
  });

  for (const step of ['resend', 'withdraw', 'terminate'] as const) {
    router.post(`/relationships/:id/${step}`, async (req, res) => {
      const partner = requirePartner(res);
      await idempotency.run(req, res, callerScope(res), async () => {
        const id = relationshipIdSchema.parse(req.params.id);
        const { reason } = reasonBodySchema.parse(req.body ?? {});
        const ifMatch = req.get('if-match');
        const body = await relationships.runPartnerStep(partner, id, step, { ...(reason ? { reason } : {}), ...(ifMatch ? { ifMatch } : {}) });
        return { status: 200, body };
      });
    });
  }

  router.get(ACCESS_PATH, async (req, res) => {
    const caller = anyPrincipalOf(res);
    if (caller.kind === 'operator') throw new AppError('forbidden', 'Only a partner API key or an enforcer key may ask this.');
    const query = accessQuerySchema.parse(req.query);
    res.json(await relationships.checkAccess(accessSubject(caller, query), query.tenant, query.role));
  });

  return router;
}
