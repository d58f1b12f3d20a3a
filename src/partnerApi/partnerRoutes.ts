import { Router } from 'express';
import { roleCatalog } from '../contract/roles.js';
import { callerScope, principalOf, requirePartner } from '../http/auth.js';
import { etagOf, notModified } from '../http/conditionalRequests.js';
import type { Idempotency } from '../http/idempotency.js';
import type { RelationshipService } from '../relationships/relationshipService.js';
import { provisioningCompletionSchema } from '../relationships/purchaseSchemas.js';
import { listRelationshipsQuerySchema, reasonBodySchema, relationshipIdSchema } from '../relationships/relationshipSchemas.js';

export interface PartnerRoutesDeps {
  relationships: RelationshipService;
  idempotency: Idempotency;
}

/** The role catalog: public, read before any key is checked. */
export function roleCatalogRoute(): Router {
  const router = Router();
  router.get('/roles', (_req, res) => {
    res.json({ roles: roleCatalog });
  });
  return router;
}

/** What a partner does with its key under /api/v1: offers, their steps, the list (the access check is src/accessApi). */
export function partnerRoutes(deps: PartnerRoutesDeps): Router {
  const { relationships, idempotency } = deps;
  const router = Router();

  router.post('/relationships', async (req, res) => {
    const partner = requirePartner(res);
    await idempotency.run(req, res, callerScope(res), async (operationId) => {
      const body = relationships.parseOfferRequest(req.body ?? {});
      const relationship = await relationships.createOffer(partner, body, operationId);
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
      await idempotency.run(req, res, callerScope(res), async (operationId) => {
        const id = relationshipIdSchema.parse(req.params.id);
        const { reason } = reasonBodySchema.parse(req.body ?? {});
        const ifMatch = req.get('if-match');
        const body = await relationships.runPartnerStep(partner, id, step, { ...(reason ? { reason } : {}), ...(ifMatch ? { ifMatch } : {}), ...(operationId ? { operationId } : {}) });
        return { status: 200, body };
      });
    });
  }

  // The partner's system answers a `subscription.requested` or `trial.requested` webhook (docs/commerce.md).
  for (const what of ['subscription', 'trial'] as const) {
    router.post(`/relationships/:id/${what}`, async (req, res) => {
      const partner = requirePartner(res);
      await idempotency.run(req, res, callerScope(res), async (operationId) => {
        const id = relationshipIdSchema.parse(req.params.id);
        const completion = provisioningCompletionSchema.parse(req.body ?? {});
        return { status: 200, body: await relationships.completeRequest(partner, id, what, completion, operationId) };
      });
    });
  }

  return router;
}
