import { Router } from 'express';
import { createAuditExport } from '../audit/auditExport.js';
import { callerScope, requireOperator } from '../http/auth.js';
import { AppError } from '../http/errors.js';
import type { Idempotency } from '../http/idempotency.js';
import type { Database } from '../infra/database.js';
import { newToken } from '../infra/tokens.js';
import type { Enforcers } from '../enforcers/enforcers.js';
import { createPartnerKeys, newApiKey } from '../partners/partnerKeys.js';
import type { PartnerPause } from '../partners/partnerPause.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import { emailAddressSchema } from '../tenants/tenantIdentifiers.js';
import type { WebhookTargetPolicy } from '../webhooks/webhookTarget.js';
import { createPartnerSchema, putTenantSchema, tenantDomainParamSchema } from './operatorSchemas.js';
import { auditRoutes } from './auditRoutes.js';
import { enforcerRoutes } from './enforcerRoutes.js';
import { keyRoutes } from './keyRoutes.js';
import { partnerPauseRoutes } from './partnerPauseRoutes.js';
import { requireAllowedWebhookUrl } from './webhookTargetCheck.js';

export interface AdminRoutesDeps {
  db: Database;
  tenants: TenantDirectory;
  enforcers: Enforcers;
  idempotency: Idempotency;
  /** Where partner webhooks may point (public addresses only, unless the operator allows private ones). */
  webhookTargets: WebhookTargetPolicy;
  /** The pause switch: stops all of a partner's access at once, and restores it. */
  partnerPause: PartnerPause;
}

/** The operator's JSON routes under /api/v1/admin: partners, enforcers, their keys, the tenant directory. A partner or enforcer key is refused before anything is read. */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();

  router.post('/admin/partners', async (req, res) => {
    requireOperator(res);
    await deps.idempotency.run(req, res, callerScope(res), async () => {
      const body = createPartnerSchema.parse(req.body ?? {});
      await requireAllowedWebhookUrl(deps.webhookTargets, body.webhookUrl);
      const { apiKey, keyHash, prefix } = newApiKey();
      const partner = await deps.db.partner.create({
        data: {
          name: body.name,
          contactEmail: body.contactEmail,
          webhookUrl: body.webhookUrl ?? null,
          webhookSecret: newToken(),
          provisioner: body.provisioner,
          apiKeys: { create: { keyHash, prefix } },
        },
      });
      // The key is shown only here; we keep its hash. A replay under the same Idempotency-Key
      // answers without the secrets, which are never written to Redis.
      const shown = { id: partner.id, name: partner.name, contactEmail: partner.contactEmail, provisioner: partner.provisioner };
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
    const partners = await deps.db.partner.findMany({
      orderBy: { createdAt: 'asc' },
      include: { apiKeys: { where: { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }, orderBy: { createdAt: 'desc' }, take: 1 } },
    });
    res.json({
      partners: partners.map((p) => ({
        id: p.id,
        name: p.name,
        contactEmail: p.contactEmail,
        webhookUrl: p.webhookUrl,
        provisioner: p.provisioner,
        apiKeyPrefix: p.apiKeys[0]?.prefix ?? null,
        createdAt: p.createdAt.toISOString(),
        pausedAt: p.pausedAt?.toISOString() ?? null,
      })),
    });
  });

  router.use(keyRoutes({ holdersPath: '/admin/partners', keys: createPartnerKeys(deps.db), idempotency: deps.idempotency }));
  router.use(partnerPauseRoutes({ partnerPause: deps.partnerPause }));
  router.use(enforcerRoutes({ enforcers: deps.enforcers, idempotency: deps.idempotency }));
  router.use(auditRoutes({ audit: createAuditExport(deps.db) }));

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

  return router;
}
