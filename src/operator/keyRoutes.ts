import { Router } from 'express';
import type { Keyring } from '../apiKeys/apiKeys.js';
import { callerScope, requireOperator } from '../http/auth.js';
import type { Idempotency } from '../http/idempotency.js';
import { holderIdParamSchema, keyRefSchemaFor, rotateKeySchema } from './keySchemas.js';

// The operator's routes for the keys of one kind of holder (partners under
// /admin/partners, enforcers under /admin/enforcers): list, rotate (a new key;
// the old ones keep working for a grace period) and revoke (at once). Any key
// is refused before anything is read, so a stolen key cannot mint itself a
// successor or revoke its holder's new key.

const noStore = { 'Cache-Control': 'no-store' };

export function keyRoutes<Holder>(deps: { holdersPath: string; keys: Keyring<Holder>; idempotency: Idempotency }): Router {
  const { keys, idempotency } = deps;
  const holderIdField = `${keys.kind.holder}Id`;
  const keyRefSchema = keyRefSchemaFor(keys.kind);
  const router = Router();

  router.get(`${deps.holdersPath}/:id/keys`, async (req, res) => {
    requireOperator(res);
    res.json({ keys: await keys.list(holderIdParamSchema.parse(req.params.id)) });
  });

  router.post(`${deps.holdersPath}/:id/keys`, async (req, res) => {
    requireOperator(res);
    await idempotency.run(req, res, callerScope(res), async () => {
      const holderId = holderIdParamSchema.parse(req.params.id);
      const { graceSeconds } = rotateKeySchema.parse(req.body ?? {});
      const rotated = await keys.rotate(holderId, graceSeconds);
      const body = { [holderIdField]: holderId, key: rotated.key, previousKeys: rotated.previousKeys };
      // The new key is in this answer only; a replay under the same Idempotency-Key answers without it.
      return { status: 201, headers: noStore, body: { ...body, apiKey: rotated.apiKey }, replay: { status: 201, headers: noStore, body } };
    });
  });

  router.delete(`${deps.holdersPath}/:id/keys/:key`, async (req, res) => {
    requireOperator(res);
    const holderId = holderIdParamSchema.parse(req.params.id);
    res.json(await keys.revoke(holderId, keyRefSchema.parse(req.params.key)));
  });

  return router;
}
