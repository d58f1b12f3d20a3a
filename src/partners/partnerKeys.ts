import { randomUUID } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { hashToken, newToken } from '../infra/tokens.js';
import { AppError } from '../http/errors.js';

// A partner's API keys. A key authenticates while it is neither revoked nor
// past its expiry. Rotation adds a key and gives every older live key an
// expiry at the end of a grace period, so the partner can switch without an
// outage; revocation ends one key at once (a leaked key). Keys are stored as
// sha256 hashes only; the raw key is in exactly one response.

/** The grace period of a rotation, unless the operator asks for another. */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** Longer than a week would let a leaked key outlive any reasonable switch-over. */
export const MAX_GRACE_SECONDS = 7 * 86_400;

const PREFIX_LENGTH = 10;

export function newApiKey() {
  const apiKey = `pf_${newToken()}`;
  return { apiKey, keyHash: hashToken(apiKey), prefix: apiKey.slice(0, PREFIX_LENGTH) };
}

type KeyRow = { id: string; prefix: string; createdAt: Date; expiresAt: Date | null; revokedAt: Date | null };

const liveAt = (now: Date): Prisma.PartnerApiKeyWhereInput => ({ revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

export function keyView(key: KeyRow, now = new Date()) {
  const status = key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt <= now ? 'expired' : key.expiresAt ? 'expiring' : 'active';
  return {
    id: key.id,
    prefix: key.prefix,
    status,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

async function auditKeyChange(tx: Prisma.TransactionClient, action: string, data: Prisma.InputJsonObject) {
  await tx.auditEvent.create({ data: { idempotencyKey: `partner-key-${randomUUID()}`, actorType: 'operator', actorId: 'operator', action, data } });
}

async function lockPartner(tx: Prisma.TransactionClient, partnerId: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM partners WHERE id = ${partnerId}::uuid FOR UPDATE`;
  if (rows.length !== 1) throw new AppError('notFound', `No partner ${partnerId}.`);
}

export function createPartnerKeys(db: Database) {
  /** The partner a presented key belongs to, when the key is live now. */
  async function authenticate(apiKey: string): Promise<{ partnerId: string; partnerName: string; keyId: string } | null> {
    const key = await db.partnerApiKey.findUnique({ where: { keyHash: hashToken(apiKey) }, include: { partner: true } });
    if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= new Date())) return null;
    return { partnerId: key.partnerId, partnerName: key.partner.name, keyId: key.id };
  }

  async function list(partnerId: string) {
    if (!(await db.partner.findUnique({ where: { id: partnerId } }))) throw new AppError('notFound', `No partner ${partnerId}.`);
    const keys = await db.partnerApiKey.findMany({ where: { partnerId }, orderBy: { createdAt: 'desc' } });
    return keys.map((k) => keyView(k));
  }

  /**
   * A new key; the partner's other live keys expire after `graceSeconds`
   * (never later than they already would). Serialized per partner, so two
   * rotations at once cannot leave a key without its expiry.
   */
  async function rotate(partnerId: string, graceSeconds: number) {
    const fresh = newApiKey();
    return db.$transaction(async (tx) => {
      await lockPartner(tx, partnerId);
      const now = new Date();
      const graceEnd = new Date(now.getTime() + graceSeconds * 1000);
      const older = await tx.partnerApiKey.findMany({ where: { partnerId, ...liveAt(now) } });
      for (const key of older) {
        if (key.expiresAt && key.expiresAt <= graceEnd) continue;
        await tx.partnerApiKey.update({ where: { id: key.id }, data: { expiresAt: graceEnd } });
      }
      const created = await tx.partnerApiKey.create({ data: { partnerId, keyHash: fresh.keyHash, prefix: fresh.prefix } });
      const previous = await tx.partnerApiKey.findMany({ where: { id: { in: older.map((k) => k.id) } }, orderBy: { createdAt: 'desc' } });
      await auditKeyChange(tx, 'partner.apiKeyRotated', {
        partnerId,
        keyId: created.id,
        prefix: created.prefix,
        graceSeconds,
        previousKeys: previous.map((k) => ({ id: k.id, prefix: k.prefix, expiresAt: k.expiresAt?.toISOString() ?? null })),
      });
      return { apiKey: fresh.apiKey, key: keyView(created, now), previousKeys: previous.map((k) => keyView(k, now)) };
    });
  }

  /** Ends one key at once; revoking a revoked key changes nothing and answers the same. */
  async function revoke(partnerId: string, ref: { id: string } | { prefix: string }) {
    return db.$transaction(async (tx) => {
      await lockPartner(tx, partnerId);
      const matches = await tx.partnerApiKey.findMany({ where: { partnerId, ...ref } });
      if (matches.length === 0) throw new AppError('notFound', `Partner ${partnerId} has no such key.`);
      const key = matches[0];
      if (!key || matches.length > 1) throw new AppError('conflict', 'More than one key has this prefix; revoke it by its id.', { reason: 'ambiguousKeyPrefix' });
      if (key.revokedAt) return keyView(key);
      const revoked = await tx.partnerApiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
      await auditKeyChange(tx, 'partner.apiKeyRevoked', { partnerId, keyId: key.id, prefix: key.prefix });
      return keyView(revoked);
    });
  }

  return { authenticate, list, rotate, revoke };
}

export type PartnerKeys = ReturnType<typeof createPartnerKeys>;
