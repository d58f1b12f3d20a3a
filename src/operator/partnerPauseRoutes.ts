import { Router } from 'express';
import { requireOperator } from '../http/auth.js';
import type { PartnerPause } from '../partners/partnerPause.js';
import { holderIdParamSchema } from './keySchemas.js';
import { partnerPauseRequestSchema } from './partnerPauseSchemas.js';

// The operator's pause switch for one partner (what it does and doesn't:
// src/partners/partnerPause.ts). Both calls are idempotent by nature (a repeat
// answers `changed: false` and notifies nobody again), so they take no
// Idempotency-Key. Any key but the operator's is refused before anything is read.

export function partnerPauseRoutes(deps: { partnerPause: PartnerPause }): Router {
  const router = Router();

  for (const change of ['pause', 'resume'] as const) {
    router.post(`/admin/partners/:id/${change}`, async (req, res) => {
      requireOperator(res);
      const partnerId = holderIdParamSchema.parse(req.params.id);
      const { reason } = partnerPauseRequestSchema.parse(req.body ?? {});
      res.json(await deps.partnerPause[change](partnerId, reason));
    });
  }

  return router;
}
