import { Router } from 'express';
import type { Enforcers } from '../enforcers/enforcers.js';
import { callerScope, requireOperator } from '../http/auth.js';
import type { Idempotency } from '../http/idempotency.js';
import { createEnforcerSchema } from './enforcerSchemas.js';
import { keyRoutes } from './keyRoutes.js';

// The operator's enforcers: create one (with its first key, shown once), list
// them (key prefixes and dates, never keys), and their keys' rotation and
// revocation, the same routes partners' keys have (keyRoutes.ts).

const noStore = { 'Cache-Control': 'no-store' };

export function enforcerRoutes(deps: { enforcers: Enforcers; idempotency: Idempotency }): Router {
  const router = Router();

  router.post('/admin/enforcers', async (req, res) => {
    requireOperator(res);
    await deps.idempotency.run(req, res, callerScope(res), async () => {
      const body = createEnforcerSchema.parse(req.body ?? {});
      const { apiKey, enforcer } = await deps.enforcers.create(body);
      // The key is shown only here; we keep its hash. A replay under the same Idempotency-Key
      // answers without it, so it is never written to Redis.
      const shown = { id: enforcer.id, name: enforcer.name, tenants: enforcer.tenants, createdAt: enforcer.createdAt };
      return { status: 201, headers: noStore, body: { ...shown, apiKey }, replay: { status: 201, headers: noStore, body: shown } };
    });
  });

  router.get('/admin/enforcers', async (_req, res) => {
    requireOperator(res);
    res.json({ enforcers: await deps.enforcers.list() });
  });

  router.use(keyRoutes({ holdersPath: '/admin/enforcers', keys: deps.enforcers.keys, idempotency: deps.idempotency }));

  return router;
}
