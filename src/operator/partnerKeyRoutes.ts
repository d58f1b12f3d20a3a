import { Router } from 'express';
import type { Database } from '../infra/database.js';
import { callerScope, requireOperator } from '../http/auth.js';
import type { Idempotency } from '../http/idempotency.js';
import { keyRefSchema, partnerIdParamSchema, rotateKeySchema } from './partnerKeySchemas.js';
import { createPartnerKeys } from '../partners/partnerKeys.js';

// The operator's routes for a partner's API keys: list, rotate (a new key;
// the old ones keep working for a grace period) and revoke (at once). A
// partner's own key is refused before anything is read, so a stolen partner
// key cannot mint itself a successor or revoke the partner's new key.

const noStore = { 'Cache-Control': 'no-store' };

export function partnerKeyRoutes(deps: { db: Database; idempotency: Idempotency }): Router {
  const keys = createPartnerKeys(deps.db);
  const router = Router();

  router.get('/admin/partners/:id/keys', async (req, res) => {
    requireOperator(res);
    res.json({ keys: await keys.list(partnerIdParamSchema.parse(req.params.id)) });
  });

  router.post('/admin/partners/:id/keys', async (req, res) => {
    requireOperator(res);
    await deps.idempotency.run(req, res, callerScope(res), async () => {
      const partnerId = partnerIdParamSchema.parse(req.params.id);
      const { graceSeconds } = rotateKeySchema.parse(req.body ?? {});
      const rotated = await keys.rotate(partnerId, graceSeconds);
      const body = { partnerId, key: rotated.key, previousKeys: rotated.previousKeys };
      // The new key is in this answer only; a replay under the same Idempotency-Key answers without it.
      return { status: 201, headers: noStore, body: { ...body, apiKey: rotated.apiKey }, replay: { status: 201, headers: noStore, body } };
    });
  });

  router.delete('/admin/partners/:id/keys/:key', async (req, res) => {
    requireOperator(res);
    const partnerId = partnerIdParamSchema.parse(req.params.id);
    res.json(await keys.revoke(partnerId, keyRefSchema.parse(req.params.key)));
  });

  return router;
}
