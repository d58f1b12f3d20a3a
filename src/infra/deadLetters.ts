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
