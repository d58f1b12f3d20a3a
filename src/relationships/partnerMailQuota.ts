import type { Redis } from 'ioredis';
import { HOUR_MS, hourOf, takeFromHour } from '../infra/hourlyQuota.js';
import { AppError } from '../http/errors.js';
import { withRedis } from '../http/redisAvailability.js';
import type { RelationshipService } from './relationshipService.js';

// Per-partner mail quota (issue 10, item 3): the invitation emails a partner causes
// (each offer and each resend sends one) are counted per clock hour in Redis.
// Beyond PARTNER_MAIL_PER_HOUR the call is refused with 429 `partnerMailQuota`
// before anything is written or sent, so the partner learns at once and nothing
// waits in a queue for hours. A call that fails for another reason gives its point back.

export interface PartnerMailQuotaOptions {
  redis: Redis;
  keyPrefix: string;
  perHour: number;
}

export function createPartnerMailQuota({ redis, keyPrefix, perHour }: PartnerMailQuotaOptions) {
  const keyOf = (partnerId: string, now: number) => `${keyPrefix}:partner-mail:${partnerId}:${hourOf(now)}`;

  /** Takes one email from the partner's hour; returns the key to refund, or throws the 429. */
  async function take(partnerId: string): Promise<string> {
    const now = Date.now();
    const key = keyOf(partnerId, now);
    if (await withRedis('check the partner mail quota', () => takeFromHour(redis, key, perHour))) return key;
    const retryAfterSeconds = Math.max(1, Math.ceil((HOUR_MS - (now % HOUR_MS)) / 1000));
    throw new AppError('partnerMailQuota', `At most ${perHour} invitation emails (offers and resends) per hour; retry in ${retryAfterSeconds} s.`, {
      limit: perHour,
      retryAfterSeconds,
    });
  }

  async function refund(key: string): Promise<void> {
    // Best effort: a point not given back only makes the quota stricter for the rest of the hour.
    await withRedis('refund the partner mail quota', () => redis.decr(key)).catch(() => undefined);
  }

  /** Runs `send` (a step that emails an invitation) within the partner's quota. */
  async function within<T>(partnerId: string, send: () => Promise<T>): Promise<T> {
    const key = await take(partnerId);
    try {
      return await send();
    } catch (err) {
      await refund(key);
      throw err;
    }
  }

  return { within };
}

export type PartnerMailQuota = ReturnType<typeof createPartnerMailQuota>;

/** The relationship service with offers and resends counted against the partner's mail quota. */
export function withPartnerMailQuota(service: RelationshipService, quota: PartnerMailQuota): RelationshipService {
  return {
    ...service,
    createOffer: (partner, body, operationId) => quota.within(partner.partnerId, () => service.createOffer(partner, body, operationId)),
    runPartnerStep: (partner, id, step, options) =>
      step === 'resend' ? quota.within(partner.partnerId, () => service.runPartnerStep(partner, id, step, options)) : service.runPartnerStep(partner, id, step, options),
  };
}
