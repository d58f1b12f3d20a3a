import express, { Router } from 'express';
import { roleCatalog } from '../../contract/roles.js';
import type { Database } from '../../infra/database.js';
import { hashToken, newToken } from '../../infra/tokens.js';
import { bearerAuth, principalOf, requireOperator, requirePartner } from '../auth.js';
import type { RelationshipService } from '../relationshipService.js';
import {
  accessQuerySchema,
  createPartnerSchema,
  createRelationshipSchema,
  listRelationshipsQuerySchema,
  reasonBodySchema,
} from '../schemas.js';
import { z } from 'zod';

export interface PartnerApiDeps {
  db: Database;
  relationships: RelationshipService;
  operatorToken: string;
}

const idSchema = z.uuid();

/** The JSON API under /api/v1. */
export function partnerApi(deps: PartnerApiDeps): Router {
  const { db, relationships } = deps;
  const router = Router();
  router.use(express.json({ limit: '32kb', strict: true }));

  router.get('/roles', (_req, res) => {
    res.json({ roles: roleCatalog });
  });

  router.use(bearerAuth(db, deps.operatorToken));

  router.post('/admin/partners', async (req, res) => {
    requireOperator(res);
    const body = createPartnerSchema.parse(req.body ?? {});
    const apiKey = `pf_${newToken()}`;
    const partner = await db.partner.create({
      data: {
        name: body.name,
        contactEmail: body.contactEmail,
        webhookUrl: body.webhookUrl ?? null,
        webhookSecret: newToken(),
        apiKeyHash: hashToken(apiKey),
        apiKeyPrefix: apiKey.slice(0, 10),
      },
    });
    // The key is shown only here; we keep its hash.
    res.status(201).json({ id: partner.id, name: partner.name, contactEmail: partner.contactEmail, apiKey, webhookSecret: partner.webhookSecret });
  });

  router.post('/relationships', async (req, res) => {
    const partner = requirePartner(res);
    const body = createRelationshipSchema.parse(req.body ?? {});
    const idempotencyKey = z.string().min(1).max(200).optional().parse(req.get('idempotency-key'));
    const result = await relationships.createOffer(partner, body, idempotencyKey);
    res.status(result.created ? 201 : 200).location(`/api/v1/relationships/${result.relationship.id}`).json(result.relationship);
  });

  router.get('/relationships', async (req, res) => {
    const filters = listRelationshipsQuerySchema.parse(req.query);
    res.json({ relationships: await relationships.list(principalOf(res), filters) });
  });

  router.get('/relationships/:id', async (req, res) => {
    res.json(await relationships.get(principalOf(res), idSchema.parse(req.params.id)));
  });

  for (const step of ['resend', 'withdraw', 'terminate'] as const) {
    router.post(`/relationships/:id/${step}`, async (req, res) => {
      const partner = requirePartner(res);
      const { reason } = reasonBodySchema.parse(req.body ?? {});
      res.json(await relationships.runPartnerStep(partner, idSchema.parse(req.params.id), step, reason));
    });
  }

  router.get('/access', async (req, res) => {
    const partner = requirePartner(res);
    const { tenant, role } = accessQuerySchema.parse(req.query);
    res.json(await relationships.checkAccess(partner.partnerId, tenant, role));
  });

  return router;
}
