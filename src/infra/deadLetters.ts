import type { DeliveryKind } from './outboxSweeper.js';

/** A delivery that failed for good: its outbox row is `failed` and no retry is scheduled. */
export interface DeadLetter {
  kind: DeliveryKind;
  /** The outbox row's id: what `dead-letters retry` takes. */
  id: string;
  jobId: string;
  /** The email's template or the webhook's event type. */
  what: string;
  /** The recipient's address or the webhook's URL. */
  to: string;
  attempts: number;
  error: string | null;
  failedAt: string;
  relationshipId: string | null;
}

/** What one outbox (mail, webhooks) shows the operator of its dead letters. */
export interface DeadLetters {
  kind: DeliveryKind;
  /** The newest first. */
  list(limit: number): Promise<DeadLetter[]>;
  count(): Promise<number>;
  /** Sends it again (a fresh job under the same id, so a receiver still drops a duplicate); null when no such dead letter. */
  retry(id: string): Promise<DeadLetter | null>;
}

type EmailRow = { id: string; jobId: string; template: string; toAddress: string; attempts: number; error: string | null; updatedAt: Date; relationshipId: string | null };
type WebhookRow = { id: string; jobId: string; event: string; url: string; attempts: number; lastError: string | null; updatedAt: Date; relationshipId: string | null };

/** A failed email_messages row as the operator sees it (the dead-letter list, the consistency check). */
export const emailDeadLetter = (row: EmailRow): DeadLetter => ({
  kind: 'mail',
  id: row.id,
  jobId: row.jobId,
  what: row.template,
  to: row.toAddress,
  attempts: row.attempts,
  error: row.error,
  failedAt: row.updatedAt.toISOString(),
  relationshipId: row.relationshipId,
});

/** A failed webhook_deliveries row as the operator sees it. */
export const webhookDeadLetter = (row: WebhookRow): DeadLetter => ({
  kind: 'webhook',
  id: row.id,
  jobId: row.jobId,
  what: row.event,
  to: row.url,
  attempts: row.attempts,
  error: row.lastError,
  failedAt: row.updatedAt.toISOString(),
  relationshipId: row.relationshipId,
});
