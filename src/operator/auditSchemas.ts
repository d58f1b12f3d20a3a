import { z } from 'zod';
import { SERVICE_CHAIN } from '../audit/auditChain.js';
import { domainSchema } from '../tenants/tenantIdentifiers.js';

// Which audit chain the operator exports: one tenant's, or the service chain (events of no tenant).

export const auditExportQuerySchema = z
  .object({
    tenant: domainSchema.optional().meta({ description: "The tenant whose chain to export: its relationships' and its directory's events." }),
    chain: z.literal(SERVICE_CHAIN).optional().meta({ description: 'The chain of events that belong to no tenant (operator key changes, partner pauses).' }),
  })
  .strict()
  .refine((q) => (q.tenant === undefined) !== (q.chain === undefined), { message: 'give exactly one of tenant=<domain> and chain=service' });
