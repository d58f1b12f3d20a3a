import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { roleCatalog } from '../contract/roles.js';
import type { Database } from '../infra/database.js';
import { newToken } from '../infra/tokens.js';
import { boundedBodyDepth } from '../http/bodyDepth.js';
import { bearerAuth, principalOf, requireOperator, requirePartner } from '../http/auth.js';
import { withAuthFailureLimit, type AuthFailures } from '../http/authFailures.js';
import { etagOf, notModified } from '../http/conditionalRequests.js';
import { newApiKey } from '../operator/partnerKeys.js';
import { AppError } from '../http/errors.js';
import type { Idempotency } from '../http/idempotency.js';
import { requireAllowedWebhookUrl } from './webhookTargetCheck.js';
import type { WebhookTargetPolicy } from '../webhooks/webhookTarget.js';
import { partnerRateLimit, type RateLimit } from '../http/rateLimits.js';
import { partnerKeyRoutes } from '../operator/partnerKeyRoutes.js';
import type { RelationshipService } from '../relationships/relationshipService.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import { emailAddressSchema } from '../tenants/tenantIdentifiers.js';
import {
  accessQuerySchema,
  createPartnerSchema,
  listRelationshipsQuerySchema,
  putTenantSchema,
  reasonBodySchema,
  relationshipIdSchema,
  tenantDomainParamSchema,
} from '../relationships/relationshipSchemas.js';

export interface PartnerApiDeps {
  db: Database;
  relationships: RelationshipService;
  tenants: TenantDirectory;
  operatorToken: string;
  idempotency: Idempotency;
  rateLimit: RateLimit;
  /** Failed key or token attempts per client address. */
  authFailures: AuthFailures;
  /** Where partner webhooks may point (public addresses only, unless the operator allows private ones). */
  webhookTargets: WebhookTargetPolicy;
}

/** Request bodies of the JSON API are at most this large (413 above it). */
export const API_BODY_LIMIT = '32kb';

/** A body in anything but JSON is refused before it is read (415), so it can't be half-understood. */
function jsonBodiesOnly(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    return next(new AppError('unsupportedMediaType', 'Send the body as application/json.'));
  }
  next();
}

const callerId = (res: Response) => {
  const principal = principalOf(res);
  return principal.kind === 'partner' ? `partner-${principal.partnerId}` : 'operator';
};

/** The JSON API under /api/v1. */
export function partnerApi(deps: PartnerApiDeps): Router {
  const { db, relationships, idempotency } = deps;
  const router = Router();
  router.use(jsonBodiesOnly);
  router.use(express.json({ limit: API_BODY_LIMIT, strict: true, type: 'application/json' }));
  router.use(boundedBodyDepth);

  router.get('/roles', (_req, res) => {
    res.json({ roles: roleCatalog });
  });

  router.use(withAuthFailureLimit(bearerAuth(db, deps.operatorToken), deps.authFailures));
  router.use(partnerRateLimit(deps.rateLimit));

  router.post('/admin/partners', async (req, res) => {
    requireOperator(res);
    await idempotency.run(req, res, callerId(res), async () => {
      const body = createPartnerSchema.parse(req.body ?? {});
      await requireAllowedWebhookUrl(deps.webhookTargets, body.webhookUrl);
      const { apiKey, keyHash, prefix } = newApiKey();
      const partner = await db.partner.create({
        data: {
          name: body.name,
          contactEmail: body.contactEmail,
          webhookUrl: body.webhookUrl ?? null,
          webhookSecret: newToken(),
          apiKeys: { create: { keyHash, prefix } },
        },
      });
      // The key is shown only here; we keep its hash. A replay under the same Idempotency-Key
      // answers without the secrets, which are never written to Redis.
      const shown = { id: partner.id, name: partner.name, contactEmail: partner.contactEmail };
      return {
        status: 201,
        headers: { 'Cache-Control': 'no-store' },
        body: { ...shown, apiKey, webhookSecret: partner.webhookSecret },
        replay: { status: 201, headers: { 'Cache-Control': 'no-store' }, body: shown },
      };
    });
  });

  router.get('/admin/partners', async (_req, res) => {
    requireOperator(res);
    // The prefix shown is the newest key that still works (null when every key is revoked or expired).
    const now = new Date();
    const partners = await db.partner.findMany({
      orderBy: { createdAt: 'asc' },
      include: { apiKeys: { where: { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }, orderBy: { createdAt: 'desc' }, take: 1 } },
    });
    res.json({
      partners: partners.map((p) => ({
        id: p.id,
        name: p.name,
        contactEmail: p.contactEmail,
        webhookUrl: p.webhookUrl,
        apiKeyPrefix: p.apiKeys[0]?.prefix ?? null,
        createdAt: p.createdAt.toISOString(),
      })),
    });
  });

  router.use(partnerKeyRoutes({ db, idempotency }));

  // The tenant directory belongs to the operator alone: a partner key is refused here before anything is read.
  router.put('/admin/tenants/:domain', async (req, res) => {
    requireOperator(res);
    const domain = tenantDomainParamSchema.parse(req.params.domain);
    const body = putTenantSchema.parse(req.body ?? {});
    const { created, tenant } = await deps.tenants.put(domain, body, { type: 'operator', id: 'operator' });
    res.status(created ? 201 : 200).setHeader('Location', `/api/v1/admin/tenants/${domain}`).json(tenant);
  });

  router.get('/admin/tenants/:domain', async (req, res) => {
    requireOperator(res);
    const domain = tenantDomainParamSchema.parse(req.params.domain);
    const tenant = await deps.tenants.get(domain);
    if (!tenant) throw new AppError('notFound', `No tenant ${domain}.`);
    res.json(tenant);
  });

  router.delete('/admin/tenants/:domain/admins/:email', async (req, res) => {
    requireOperator(res);
    const domain = tenantDomainParamSchema.parse(req.params.domain);
    const email = emailAddressSchema.parse(req.params.email);
    await deps.tenants.removeAdmin(domain, email, { type: 'operator', id: 'operator' });
    const tenant = await deps.tenants.get(domain);
    res.json(tenant);
  });

  router.post('/relationships', async (req, res) => {
    const partner = requirePartner(res);
    await idempotency.run(req, res, callerId(res), async () => {
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
      await idempotency.run(req, res, callerId(res), async () => {
        const id = relationshipIdSchema.parse(req.params.id);
        const { reason } = reasonBodySchema.parse(req.body ?? {});
        const ifMatch = req.get('if-match');
        const body = await relationships.runPartnerStep(partner, id, step, { ...(reason ? { reason } : {}), ...(ifMatch ? { ifMatch } : {}) });
        return { status: 200, body };
      });
    });
  }

  router.get('/access', async (req, res) => {
    const partner = requirePartner(res);
    const { tenant, role } = accessQuerySchema.parse(req.query);
    res.json(await relationships.checkAccess(partner.partnerId, tenant, role));
  });

  return router;
}
