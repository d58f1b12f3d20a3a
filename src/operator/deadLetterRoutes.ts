import { Router } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { requireOperator } from '../http/auth.js';
import { AppError } from '../http/errors.js';
import type { DeadLetters } from '../infra/deadLetters.js';
import type { DeliveryKind } from '../infra/outboxSweeper.js';
import { deadLetterListQuerySchema, deadLetterParamsSchema } from './deadLetterSchemas.js';

// Deliveries that failed for good, for the operator: listed, counted as a
// metric, and sent again on request (`npm run operator -- dead-letters`). An
// email or webhook given up is never silent: it waits here until someone acts.

export interface DeadLetterRoutesDeps {
  outboxes: Record<DeliveryKind, DeadLetters>;
  registry: Registry;
}

export function deadLetterRoutes(deps: DeadLetterRoutesDeps): Router {
  const { outboxes } = deps;
  // Counted from Postgres when Prometheus scrapes, so every API process reports the same truth.
  new Gauge({
    name: 'partnerflow_dead_letters',
    help: 'Emails and webhooks that failed for good and wait for the operator (npm run operator -- dead-letters)',
    labelNames: ['kind'] as const,
    registers: [deps.registry],
    async collect() {
      for (const outbox of Object.values(outboxes)) this.set({ kind: outbox.kind }, await outbox.count());
    },
  });

  const router = Router();
  router.get('/admin/dead-letters', async (req, res) => {
    requireOperator(res);
    const { kind, limit } = deadLetterListQuerySchema.parse(req.query);
    const shown = kind ? [outboxes[kind]] : Object.values(outboxes);
    const lists = await Promise.all(shown.map((outbox) => outbox.list(limit)));
    const [mail, webhook] = await Promise.all([outboxes.mail.count(), outboxes.webhook.count()]);
    res.json({ counts: { mail, webhook }, deadLetters: lists.flat().sort((a, b) => b.failedAt.localeCompare(a.failedAt)) });
  });
  router.post('/admin/dead-letters/:kind/:id/retry', async (req, res) => {
    requireOperator(res);
    const { kind, id } = deadLetterParamsSchema.parse(req.params);
    const retried = await outboxes[kind].retry(id);
    if (!retried) throw new AppError('notFound', `No ${kind} dead letter ${id}: it does not exist, or it was sent again already.`);
    res.json(retried);
  });
  return router;
}
