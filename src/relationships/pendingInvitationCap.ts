import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Database } from '../infra/database.js';
import { AppError } from '../http/errors.js';
import { withRedis } from '../http/redisAvailability.js';

// A partner may have at most `max` invitations waiting for an answer. The read
// model is the count (it follows every answer, withdrawal and expiry); a
// short per-partner lock in Redis makes count-then-insert one step, so two
// concurrent offers cannot both take the last place.

const LOCK_LEASE_MS = 10_000;
const LOCK_WAIT_MS = 3_000;
const LOCK_POLL_MS = 15;

const RELEASE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface PendingInvitationCapOptions {
  db: Database;
  redis: Redis;
  keyPrefix: string;
  max: number;
}

export function createPendingInvitationCap({ db, redis, keyPrefix, max }: PendingInvitationCapOptions) {
  async function acquire(lockKey: string, token: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const claimed = await withRedis('check the pending-invitation limit', () => redis.set(lockKey, token, 'PX', LOCK_LEASE_MS, 'NX'));
      if (claimed === 'OK') return;
      if (Date.now() > deadline) {
        throw new AppError('unavailable', 'Too many offers from this partner at the same moment; retry.', { retryAfterSeconds: 1 });
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  /** Runs `create` (which must insert the invited relationship) only while the partner is under the cap. */
  async function withinCap<T>(partnerId: string, create: () => Promise<T>): Promise<T> {
    const lockKey = `${keyPrefix}:offer-lock:${partnerId}`;
    const token = randomUUID();
    await acquire(lockKey, token);
    try {
      const pending = await db.relationship.count({ where: { partnerId, status: 'invited' } });
      if (pending >= max) {
        const earliest = await db.relationship.findFirst({
          where: { partnerId, status: 'invited' },
          orderBy: { invitationExpiresAt: 'asc' },
          select: { invitationExpiresAt: true },
        });
        const retryAfterSeconds = Math.max(1, Math.ceil(((earliest?.invitationExpiresAt?.getTime() ?? Date.now()) - Date.now()) / 1000));
        throw new AppError('pendingInvitationLimit', `At most ${max} invitations may wait for an answer at once.`, {
          limit: max,
          pending,
          retryAfterSeconds,
        });
      }
      return await create();
    } finally {
      // Not waited for: the offer goes on to its workflow start meanwhile. A lock Redis could not
      // release ends with its lease.
      void withRedis('release the offer lock', () => redis.eval(RELEASE_IF_OURS, 1, lockKey, token)).catch(() => undefined);
    }
  }

  return { withinCap };
}

export type PendingInvitationCap = ReturnType<typeof createPendingInvitationCap>;
