import { Router } from 'express';
import { SERVICE_CHAIN, tenantChain } from '../audit/auditChain.js';
import { sendNdjson, type AuditExport } from '../audit/auditExport.js';
import { requireOperator } from '../http/auth.js';
import { auditExportQuerySchema } from './auditSchemas.js';

/** GET /admin/audit: one audit chain as NDJSON, for the operator (and through it the verify command and auditors). */
export function auditRoutes(deps: { audit: AuditExport }): Router {
  const router = Router();

  router.get('/admin/audit', async (req, res) => {
    requireOperator(res);
    const query = auditExportQuerySchema.parse(req.query);
    const chain = query.tenant ? tenantChain(query.tenant) : SERVICE_CHAIN;
    await sendNdjson(res, `audit-${chain.replace(':', '-')}.ndjson`, deps.audit.lines(chain, 'operator'));
  });

  return router;
}
