import { appendAuditEvent } from '../audit/auditLog.js';
import type { Prisma } from '../generated/prisma/client.js';
import { AppError } from '../http/errors.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { partnerEvent, type PartnerEventType } from '../webhooks/partnerWebhookEvent.js';
import type { WebhookOutbox } from '../webhooks/webhookOutbox.js';

// The operator's switch for a compromised or breaching partner: one pause stops
// all of its access at once, one resume restores exactly what was. A pause only
// sets partners.paused_at; nothing else changes. Grants are not revoked and no
// workflow is touched (its timers keep running, so a relationship may expire
// while paused). Every place that acts for the partner reads the flag instead:
// the access check (paused_at IS NULL), new offers (`refuseOffersWhilePaused`),
// the customer's acceptance (src/customerPages/invitationAnswers.ts).

export type PauseChange = 'pause' | 'resume';

const eventOf: Record<PauseChange, PartnerEventType> = { pause: 'partner.paused', resume: 'partner.resumed' };

/** A partner's pause, as the operator API answers it. `changed` is false when it already was as asked. */
export interface PauseState {
  id: string;
  name: string;
  paused: boolean;
  pausedAt: string | null;
  pauseReason: string | null;
  changed: boolean;
}

export interface PartnerPauseDeps {
  db: Database;
  mail: Pick<MailOutbox, 'enqueue'>;
  webhooks: Pick<WebhookOutbox, 'enqueuePartnerEvent'>;
  log: Logger;
}

type Tx = Prisma.TransactionClient;
const partnerFields = { id: true, name: true, contactEmail: true, pausedAt: true, pauseReason: true } as const;
type PartnerRow = { id: string; name: string; contactEmail: string; pausedAt: Date | null; pauseReason: string | null };

/** The audit key of one pause or resume; the partner's webhook and email about it are keyed by it too, so a repeat sends neither twice. */
const changeKeyPrefix = (partnerId: string) => `partner-${partnerId}-`;
const changeKey = (partnerId: string, change: PauseChange, at: Date) => `${changeKeyPrefix(partnerId)}${eventOf[change].slice('partner.'.length)}-${at.getTime()}`;

/** A pause or resume that happened, with what its notifications say. */
interface Notice {
  key: string;
  change: PauseChange;
  at: Date;
  reason: string;
}

/** 409 partnerPaused while the operator has the partner paused (as read with its key): it makes no new offers. */
export function refuseOffersWhilePaused(partner: { pausedAt: Date | null }): void {
  if (partner.pausedAt) {
    throw new AppError('partnerPaused', 'The service operator has paused this partner: no new offers until it is resumed.', { pausedAt: partner.pausedAt.toISOString() });
  }
}

export function createPartnerPause(deps: PartnerPauseDeps) {
  const { db, log } = deps;

  /** The partner's row, locked until the transaction ends, so two operators' calls at once apply one after the other. */
  async function lockPartner(tx: Tx, partnerId: string): Promise<PartnerRow> {
    const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM partners WHERE id = ${partnerId}::uuid FOR UPDATE`;
    if (rows.length !== 1) throw new AppError('notFound', `No partner ${partnerId}.`);
    return tx.partner.findUniqueOrThrow({ where: { id: partnerId }, select: partnerFields });
  }

  /** Pause or resume in one transaction with its audit event; null when the partner already was as asked. */
  async function apply(tx: Tx, partner: PartnerRow, change: PauseChange, reason: string): Promise<{ row: PartnerRow; notice: Notice } | null> {
    if ((change === 'pause') === (partner.pausedAt !== null)) return null;
    const at = new Date();
    const key = changeKey(partner.id, change, at);
    const row = await tx.partner.update({
      where: { id: partner.id },
      data: change === 'pause' ? { pausedAt: at, pauseReason: reason } : { pausedAt: null, pauseReason: null },
      select: partnerFields,
    });
    await appendAuditEvent(tx, {
      idempotencyKey: key,
      actorType: 'operator',
      actorId: 'operator',
      action: eventOf[change],
      reason,
      // A resume names the pause it ends.
      data: { partnerId: partner.id, ...(change === 'resume' ? { pausedAt: partner.pausedAt?.toISOString() ?? null, pauseReason: partner.pauseReason } : { pausedAt: at.toISOString() }) },
      createdAt: at,
    });
    return { row, notice: { key, change, at, reason } };
  }

  /**
   * The last change of this kind, when it is the partner's latest: a repeated call
   * hands its notifications to the outbox again, which sends nothing twice but
   * finishes the job if the first call failed after its commit (Redis down).
   */
  async function latestNotice(partnerId: string, change: PauseChange): Promise<Notice | null> {
    const latest = await db.auditEvent.findFirst({
      where: { idempotencyKey: { startsWith: changeKeyPrefix(partnerId) }, action: { in: Object.values(eventOf) } },
      orderBy: { id: 'desc' },
      select: { idempotencyKey: true, action: true, reason: true, createdAt: true },
    });
    if (!latest || latest.action !== eventOf[change]) return null;
    return { key: latest.idempotencyKey, change, at: latest.createdAt, reason: latest.reason ?? '' };
  }

  /** The partner's webhook (when it has a URL) and email to its contact address. */
  async function notify(partner: PartnerRow, notice: Notice): Promise<void> {
    const pausedAt = notice.change === 'pause' ? partner.pausedAt : null;
    await deps.webhooks.enqueuePartnerEvent(partnerEvent({ changeKey: notice.key, type: eventOf[notice.change], partnerId: partner.id, at: notice.at, pausedAt, reason: notice.reason }));
    const common = { partnerName: partner.name, partnerId: partner.id, reason: notice.reason };
    await deps.mail.enqueue(`${notice.key}-mail`, {
      to: partner.contactEmail,
      sender: partner.id,
      ...(notice.change === 'pause' ? { template: 'partnerPaused', data: { ...common, pausedAt: notice.at } } : { template: 'partnerResumed', data: { ...common, resumedAt: notice.at } }),
    });
  }

  async function set(partnerId: string, change: PauseChange, reason: string): Promise<PauseState> {
    const { row, notice } = await db.$transaction(async (tx) => {
      const partner = await lockPartner(tx, partnerId);
      return (await apply(tx, partner, change, reason)) ?? { row: partner, notice: null };
    });
    const toSend = notice ?? (await latestNotice(partnerId, change));
    if (toSend) await notify(row, toSend);
    log.info({ event: eventOf[change], partnerId, changed: notice !== null }, notice ? `partner ${change}d by the operator` : `partner already ${change}d`);
    return { id: row.id, name: row.name, paused: row.pausedAt !== null, pausedAt: row.pausedAt?.toISOString() ?? null, pauseReason: row.pauseReason, changed: notice !== null };
  }

  return {
    /** Stops all of the partner's access at once; pausing a paused partner changes nothing and says so. */
    pause: (partnerId: string, reason: string) => set(partnerId, 'pause', reason),
    /** Restores what was; resuming a partner that is not paused changes nothing and says so. */
    resume: (partnerId: string, reason: string) => set(partnerId, 'resume', reason),
  };
}

export type PartnerPause = ReturnType<typeof createPartnerPause>;
